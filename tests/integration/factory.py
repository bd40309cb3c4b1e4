"""Small sessions built through the real services, for the marking and publication tests.

Everything goes the way an office would go: a definition, a key (2-of-3 shares, or a key
file with a cheap KDF), examiners imported from a CSV, a batch taken in, examiners
assigned and schemes approved by the lead. Only the marking is driven by the tests.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anonymizer.keys import KdfParams, generate_keypair, write_key_file
from anonymizer.unseal import SessionKey
from marking.cli import main
from marking.demo import synthetic
from marking.domain.definition import parse_session_definition
from marking.intake.batch import intake_batch
from marking.intake.storing import IntakeSummary
from marking.people.accounts import add_user, get_account
from marking.people.examiners import import_examiners
from marking.publication.approvals import approve_publication
from marking.quality.checks import submit_check
from marking.queue.claims import Claimed, claim
from marking.queue.marks import submit_mark
from marking.setup.assignment import approve_scheme, assign
from marking.setup.sessions import create_session, init_keys
from marking.store.models import (
    Account,
    Anomaly,
    Arbitration,
    Component,
    Custody,
    ExamSession,
    Lease,
    LedgerEntry,
    Mark,
    Question,
    Response,
    Role,
    Script,
)

OCCUPATION = "6-31-01-03"
ACTOR = "office"
PASSPHRASE = "correct horse battery staple"
FAST_KDF = KdfParams(iterations=1, lanes=1, memory_cost=8)

# The tiny paper (level 3 unless told): component maxima 8 (theory) and 10 (skills), so
# scores come out as sum × 12.5 and sum × 10, easy to check by hand.
TINY_TOML = """\
[session]
code = "{code}"
occupation = "电工"
occupation_code = "6-31-01-03"
level = {level}
date = "{date}"
station = "{station}"

[[groups]]
key = "short"
name = "简答题"
marks_required = 2

[[groups]]
key = "prac"
name = "实操题"
marks_required = 2

[[components]]
key = "theory"
name = "理论知识"

[[components.questions]]
number = "1"
bank_item = "T-0001"
type = "single_choice"
max = 2
answer = "A"

[[components.questions]]
number = "2"
bank_item = "T-0002"
type = "short_answer"
max = 6
step = 0.5
tolerance = 1
group = "short"
text = "停电检修时应采取哪些安全技术措施？"
reference = "断电、验电、挂接地线"
scheme = "每个要点 2 分"

[[components]]
key = "skills"
name = "操作技能"

[[components.questions]]
number = "1"
bank_item = "S-0001"
type = "true_false"
max = 2
answer = "T"

[[components.questions]]
number = "2"
bank_item = "S-0002"
type = "practical"
max = 8
step = 0.5
tolerance = 1
group = "prac"
"""


def tiny_toml(
    code: str, *, level: int = 3, date: str = "2026-12-05", station: str | None = None
) -> str:
    """The tiny paper as session ``code``; at a station of its own unless ``station`` is
    given, so R10's team rules (rotation, consecutive sessions) bite only where a test
    puts sessions at one station on purpose."""
    return TINY_TOML.format(code=code, level=level, date=date, station=station or f"S-{code}")


# --- people -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ex:
    """An examiner row of examiners.csv (DESIGN §11)."""

    username: str
    grade: str = "examiner"
    expires: str = "2029-12-31"
    scope: str = f"{OCCUPATION}:3;{OCCUPATION}:2"
    issued: str = ""  # the optional columns of DESIGN §14
    category: str = ""
    card: str = ""
    name: str = ""  # default 考评员<username>


def add_examiners(db: Session, folder: Path, *examiners: Ex | str) -> list[Account]:
    """Import examiners through ``import_examiners`` from a CSV written into ``folder``
    (the 7 columns of DESIGN §11, or the 10 of §14 when a row uses the new ones)."""
    specs = [e if isinstance(e, Ex) else Ex(e) for e in examiners]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"examiners-{specs[0].username}.csv"
    wide = any(e.issued or e.category or e.card for e in specs)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(EXAMINER_HEADER + (EXAMINER_EXTRA if wide else ()))
        for e in specs:
            w.writerow(
                (
                    e.username,
                    e.name or f"考评员{e.username}",
                    f"C-{e.username}",
                    e.expires,
                    e.grade,
                    e.scope,
                    "站",
                )
                + ((e.issued, e.category, e.card) if wide else ())
            )
    import_examiners(db, path)
    return [get_account(db, e.username) for e in specs]


EXAMINER_HEADER = (
    "username",
    "name",
    "certificate_no",
    "certificate_expires",
    "grade",
    "scope",
    "institution",
)
EXAMINER_EXTRA = ("certificate_issued", "category", "card_status")
#: The lead's certificate (DESIGN §14: a senior examiner covering the session): every
#: level of the tiny paper's occupation.
LEAD_SCOPE = ";".join(f"{OCCUPATION}:{level}" for level in range(1, 6))


def certify(db: Session, username: str, *, scope: str = LEAD_SCOPE, grade: str = "senior") -> None:
    """Give an existing lead (or examiner) account a senior examiner's certificate, through
    the examiners.csv import as an office would."""
    name = get_account(db, username).name  # the account keeps its name
    with tempfile.TemporaryDirectory(prefix="blindmark-certify-") as tmp:
        add_examiners(db, Path(tmp), Ex(username, grade=grade, scope=scope, name=name))


def add_staff(db: Session) -> None:
    """The office, director and lead accounts (``office``, ``director``, ``lead``), once;
    the lead holds a senior examiner's certificate."""
    for username, role in (
        ("office", Role.OFFICE),
        ("director", Role.DIRECTOR),
        ("lead", Role.LEAD),
    ):
        if db.scalar(select(Account.id).where(Account.username == username)) is None:
            add_user(db, username, role=role)
            if role is Role.LEAD:
                certify(db, username)


# --- sessions, keys, batches --------------------------------------------------------------------


@dataclass
class Keys:
    """Where a session's private key went: share files, or a key file and its passphrase."""

    shares: list[Path] = field(default_factory=list)
    key_file: Path | None = None

    def open(self, exam: ExamSession, count: int | None = None) -> SessionKey:
        assert exam.public_key is not None
        if self.key_file is not None:
            return SessionKey.from_key_file(
                self.key_file, PASSPHRASE, expected_public_key=exam.public_key
            )
        chosen = self.shares if count is None else self.shares[:count]
        return SessionKey.from_share_files(chosen, expected_public_key=exam.public_key)


def new_session(
    db: Session, folder: Path, toml: str, *, key_file: bool = False
) -> tuple[ExamSession, Keys]:
    """Create a session from ``toml`` and key it: 2-of-3 shares, or a cheap key file."""
    exam = create_session(db, parse_session_definition(toml), source=toml, actor=ACTOR)
    folder.mkdir(parents=True, exist_ok=True)
    if not key_file:
        shares = init_keys(
            db, exam, actor=ACTOR, custodians=3, threshold=2, out_dir=folder / f"shares-{exam.code}"
        )
        return exam, Keys(shares=shares)
    # init_keys would use the production Argon2id cost; same format, tiny cost here.
    private, public = generate_keypair()
    path = folder / f"{exam.code}.key"
    write_key_file(private, path, PASSPHRASE, session_code=exam.code, kdf_params=FAST_KDF)
    exam.public_key = public
    exam.custody, exam.custodians, exam.threshold = Custody.KEY_FILE, 1, 1
    db.flush()
    return exam, Keys(key_file=path)


def people(n: int, *, seed: int = 1, prefix: str = "2612") -> list[synthetic.SyntheticCandidate]:
    return synthetic.roster(n, seed=seed, prefix=prefix)


Row = tuple[str, str, str, str]  # exam_no, component, question, response


def tiny_rows(
    candidates: Sequence[synthetic.SyntheticCandidate],
    *,
    absent: dict[str, set[str]] | None = None,
    answers: dict[str, dict[tuple[str, str], str]] | None = None,
) -> list[Row]:
    """Responses to the tiny paper: right objective answers, and texts ``<label> <comp>``
    (label c1, c2, ... by roster position) so a test can tell responses apart without
    knowing whose they are. ``absent``/``answers`` by exam number change that."""
    rows: list[Row] = []
    for i, c in enumerate(candidates, start=1):
        skip = (absent or {}).get(c.exam_no, set())
        own = (answers or {}).get(c.exam_no, {})
        for comp, key in (("theory", "A"), ("skills", "T")):
            if comp in skip:
                continue
            rows.append((c.exam_no, comp, "1", own.get((comp, "1"), key)))
            rows.append((c.exam_no, comp, "2", own.get((comp, "2"), f"c{i} {comp}")))
    return rows


def take_in(
    db: Session,
    exam: ExamSession,
    folder: Path,
    candidates: Sequence[synthetic.SyntheticCandidate],
    rows: Iterable[Row],
) -> IntakeSummary:
    """Write candidates.csv and responses.csv into ``folder`` and take the batch in."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "candidates.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(("exam_no", "name", "id_number", "institution"))
        w.writerows((c.exam_no, c.name, c.id_number, c.institution) for c in candidates)
    with (folder / "responses.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(("exam_no", "component", "question", "response"))
        w.writerows(rows)
    return intake_batch(db, exam, folder, actor=ACTOR)


def open_marking(
    db: Session, exam: ExamSession, teams: dict[str, Sequence[str]], *, lead: str = "lead"
) -> None:
    """Assign each group's team (the lead named with the first) and have the lead approve."""
    for n, (key, usernames) in enumerate(teams.items()):
        group = next(g for g in exam.groups if g.key == key)
        assign(db, exam, group, list(usernames), actor=ACTOR, lead=lead if n == 0 else None)
    for key in teams:
        approve_scheme(db, exam, next(g for g in exam.groups if g.key == key), by=lead)


@dataclass
class Tiny:
    exam: ExamSession
    keys: Keys
    candidates: list[synthetic.SyntheticCandidate]
    batch_id: int


def tiny_session(
    db: Session,
    folder: Path,
    code: str,
    *,
    n: int = 4,
    examiners: Sequence[str] = ("e1", "e2", "e3"),
    level: int = 3,
    key_file: bool = False,
    rows: Callable[[list[synthetic.SyntheticCandidate]], list[Row]] | None = None,
    seed: int = 1,
    open_groups: bool = True,
) -> Tiny:
    """The tiny paper, ``n`` candidates, staff, examiners on both groups, marking open."""
    add_staff(db)
    known = set(db.scalars(select(Account.username).where(Account.username.in_(examiners))))
    if missing := [u for u in examiners if u not in known]:
        add_examiners(db, folder, *missing)
    exam, keys = new_session(db, folder, tiny_toml(code, level=level), key_file=key_file)
    roster = people(n, seed=seed)
    summary = take_in(db, exam, folder / f"batch-{code}", roster, (rows or tiny_rows)(roster))
    if open_groups:
        open_marking(db, exam, {"short": examiners, "prac": examiners})
    return Tiny(exam, keys, roster, summary.batch_id)


def approve(db: Session, exam: ExamSession, director: str = "director") -> str:
    """The director approves the session as it stands (R16); returns the name to publish with."""
    approve_publication(db, exam, get_account(db, director))
    return director


# --- looking things up as a test (not as an examiner) ------------------------------------------


def response_id(db: Session, exam: ExamSession, text: str) -> int:
    """The id of the session's response with this text (texts are unique in tiny sessions)."""
    return db.scalars(
        select(Response.id)
        .join(Script, Script.id == Response.script_id)
        .where(Script.session_id == exam.id, Response.text == text)
    ).one()


def response_of(db: Session, exam: ExamSession, text: str) -> Response:
    found = db.get(Response, response_id(db, exam, text), populate_existing=True)
    assert found is not None
    return found


def script_code(db: Session, exam: ExamSession, text: str) -> str:
    """The code of the script holding the response with this text."""
    return db.scalars(
        select(Script.code)
        .join(Response, Response.script_id == Script.id)
        .where(Script.session_id == exam.id, Response.text == text)
    ).one()


def stored_state(db: Session) -> tuple[Any, ...]:
    """Everything an operation on a response could write (marks, anomaly reports,
    arbitrations, ledger entries, leases, the queue's counters), to compare before/after."""
    db.expire_all()
    return (
        db.scalar(select(func.count()).select_from(Mark)),
        db.scalar(select(func.count()).select_from(Anomaly)),
        db.scalar(select(func.count()).select_from(Arbitration)),
        db.scalar(select(func.count()).select_from(LedgerEntry)),
        sorted(db.execute(select(Lease.id, Lease.state, Lease.expires_at)).all()),
        sorted(
            db.execute(
                select(Response.id, Response.state, Response.held, Response.marks_done)
            ).all()
        ),
    )


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def question(db: Session, exam: ExamSession, component: str, number: str) -> Question:
    return db.scalars(
        select(Question)
        .join(Component, Component.id == Question.component_id)
        .where(
            Component.session_id == exam.id, Component.key == component, Question.number == number
        )
    ).one()


# --- marking ------------------------------------------------------------------------------------


def middle(item: Claimed) -> Decimal:
    """A valid mark: about half the maximum, on the step."""
    return (item.max / 2 / item.step).to_integral_value(rounding=ROUND_FLOOR) * item.step


def mark_all(
    db: Session,
    exam: ExamSession,
    usernames: Sequence[str],
    value: Callable[[Claimed, str], Decimal] = lambda item, _u: middle(item),
    *,
    size: int = 3,
    **kwargs: Any,
) -> dict[str, list[int]]:
    """Examiners take turns claiming ``size`` responses and marking them until no one gets
    anything more. Returns the response ids each examiner marked."""
    accounts = [get_account(db, u) for u in usernames]
    marked: dict[str, list[int]] = {u: [] for u in usernames}
    progress = True
    while progress:
        progress = False
        for account in accounts:
            for item in claim(db, exam, account, size=size, **kwargs):
                progress = True
                if item.check_id is not None:  # a seed or 回评 (DESIGN §13): marked, not live
                    submit_check(
                        db,
                        exam,
                        account,
                        check_id=item.check_id,
                        value=value(item, account.username),
                        **kwargs,
                    )
                    continue
                submit_mark(
                    db,
                    exam,
                    account,
                    response_id=item.response_id,
                    value=value(item, account.username),
                    **kwargs,
                )
                marked[account.username].append(item.response_id)
    return marked


# --- the command line ---------------------------------------------------------------------------


def run_cli(url: str, *args: object, stdin: str | None = None) -> Result:
    """`blindmark --db URL ARGS...` in-process, ``stdin`` on its standard input."""
    return CliRunner().invoke(
        main, ["--db", url, *map(str, args)], input=stdin, prog_name="blindmark"
    )
