"""`blindmark serve --demo`: demo sessions to click through, made with the engine's services.

One published session (the engine's whole demo flow, small) with results to look at, and
one live session in marking with examiners, a lead and responses waiting, its quality
control (DESIGN §13) under way (``marking.demo.live_quality``). Accounts share one demo
password, printed with their names and what each shows.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine

from marking.demo import live_quality, synthetic
from marking.demo.demo import DEMO_PASSPHRASE, DEMO_PASSWORD, run_demo
from marking.domain.definition import parse_session_definition
from marking.intake.batch import intake_batch
from marking.people.accounts import add_user, hash_password
from marking.setup.assignment import approve_scheme, assign
from marking.setup.sessions import create_session, get_session, init_keys
from marking.store import schema
from marking.store.db import scrub_wal, transaction
from marking.store.models import Account, ExamSession, Role

LIVE_EXAMINERS = ["exam001", "exam002", "exam003", "exam004"]


def seed(engine: Engine, *, candidates: int, out_dir: Path, echo: Callable[[str], None]) -> str:
    """Seed the demo; returns the live session's code."""
    schema.upgrade(engine)
    codes = run_demo(
        engine, candidates=candidates, seed=2026, out_dir=out_dir, echo=lambda _s: None
    )
    tag = codes[0].rsplit("-", 1)[0]  # DEMO-<seed>-<run>: a new run on a database seeded before
    code = f"{tag}-LIVE"
    folder = out_dir / tag / code
    folder.mkdir(parents=True, exist_ok=True)
    toml = synthetic.session_toml(
        code,
        level=3,
        date="2026-12-20",
        questions_per_component=6,
        # A station of the run's own, as run_demo gives each run (R10 counts a team's
        # rotation and streak per station): a run's live session with exam001..exam004
        # is not the next of the previous runs' live sessions, refused for rotating too few.
        station=f"GD-LIVE-{tag.rsplit('-', 1)[1]}",
        group_lines=live_quality.GROUP_LINES,
    )
    people = synthetic.roster(candidates, seed=7, prefix="263")
    synthetic.write_batch(folder / "batch", people, synthetic.paper(6), seed=7, image_rate=0.1)
    shared = hash_password(DEMO_PASSWORD)
    # Two admins: making a director or office account in the browser needs a second one.
    admins = ("admin-demo", "admin2-demo")
    with transaction(engine) as db:
        for admin, name in zip(admins, ("演示管理员", "演示管理员二"), strict=True):
            if db.scalar(select(Account.id).where(Account.username == admin)) is None:
                add_user(db, admin, role=Role.ADMIN, name=name).password_hash = shared
        exam = create_session(db, parse_session_definition(toml), source=toml, actor="demo")
        init_keys(
            db, exam, actor="demo", key_file=folder / "session.key", passphrase=DEMO_PASSPHRASE
        )
    with transaction(engine) as db:
        intake_batch(db, get_session(db, code), folder / "batch", actor="demo", name="batch")
    scrub_wal(engine)
    lead = f"lead-{tag.lower()}"
    with transaction(engine) as db:
        exam = get_session(db, code)
        for n, group in enumerate(exam.groups):
            team = live_quality.assignments(LIVE_EXAMINERS, group.key)
            assign(db, exam, group, team, actor="demo", lead=lead if n == 0 else None)
    live_quality.build_qualification_set(engine, code, lead)
    with transaction(engine) as db:
        exam = get_session(db, code)
        for group in exam.groups:
            approve_scheme(db, exam, group, by=lead)
        published = db.scalars(select(ExamSession.code).where(ExamSession.code.in_(codes))).all()
    shown = live_quality.mark_some(engine, code)
    echo("")
    echo(f"demo sessions: {', '.join(published)} (published), {code} (open for marking)")
    echo(f"demo password for every account: {DEMO_PASSWORD}")
    echo(f"  office    office-{tag.lower()}")
    echo(f"  director  director-{tag.lower()}")
    echo(f"  lead      {lead}")
    echo(f"  centre    centre-{tag.lower()} (guidance centre: approves collective violations)")
    echo(f"  examiners {', '.join(LIVE_EXAMINERS)}")
    echo(f"  admins    {', '.join(admins)}")
    echo(f"key file of {code}: {folder / 'session.key'} (passphrase {DEMO_PASSPHRASE!r})")
    live_quality.guide(code, lead, shown, echo)
    return code
