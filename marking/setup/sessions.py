"""Exam sessions: creation from a definition, lookup, key custody set-up."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from anonymizer.keys import generate_keypair, public_key_fingerprint, write_key_file, write_shares
from marking.audit import ledger
from marking.domain.definition import SessionDef
from marking.errors import MarkingError, NotFound, StateError
from marking.store.models import (
    Component,
    Custody,
    ExamSession,
    MarkingGroup,
    Question,
    SessionState,
)


def get_session(db: Session, code: str) -> ExamSession:
    """The session with this code; raises NotFound naming it."""
    found = db.scalar(select(ExamSession).where(ExamSession.code == code))
    if found is None:
        raise NotFound(f"no session with code {code!r} (see `blindmark session create`)")
    return found


def create_session(db: Session, definition: SessionDef, *, source: str, actor: str) -> ExamSession:
    """Create a session with its groups, components and questions, in state draft.

    Raises MarkingError when a session with the same code exists.
    """
    if db.scalar(select(ExamSession.id).where(ExamSession.code == definition.code)) is not None:
        raise MarkingError.coded(
            "session_exists",
            "a session with code %(session)r already exists",
            session=definition.code,
        )
    exam = ExamSession(
        code=definition.code,
        occupation=definition.occupation,
        occupation_code=definition.occupation_code,
        level=definition.level,
        date=definition.date,
        station=definition.station,
        state=SessionState.DRAFT,
        definition=source,
    )
    db.add(exam)
    groups = {
        g.key: MarkingGroup(
            session=exam,
            key=g.key,
            name=g.name,
            marks_required=g.marks_required,
            max_held=g.max_held,
            qualification_size=g.qualification.size if g.qualification else None,
            qualification_within=g.qualification.within if g.qualification else None,
            seed_rate=g.seed_rate,
            remark_rate=g.remark_rate,
        )
        for g in definition.groups
    }
    db.add_all(groups.values())
    for cpos, cdef in enumerate(definition.components):
        component = Component(session=exam, key=cdef.key, name=cdef.name, position=cpos)
        db.add(component)
        for qpos, qdef in enumerate(cdef.questions):
            db.add(
                Question(
                    component=component,
                    number=qdef.number,
                    position=qpos,
                    bank_item=qdef.bank_item,
                    type=qdef.type,
                    max=qdef.max,
                    step=qdef.step,
                    tolerance=qdef.tolerance if qdef.tolerance is not None else Decimal(0),
                    group=groups[qdef.group] if qdef.group is not None else None,
                    reference=qdef.reference,
                    scheme=qdef.scheme,
                    text=qdef.text,
                    answer=list(qdef.answer) if qdef.answer is not None else None,
                )
            )
    db.flush()
    ledger.append(
        db,
        exam,
        kind="session_created",
        actor=actor,
        payload={
            "code": exam.code,
            "components": [c.key for c in definition.components],
            "questions": sum(len(c.questions) for c in definition.components),
            "groups": [g.key for g in definition.groups],
            # The keys as set, so `verify` can tell a key changed behind the ledger's back.
            "keys": {
                f"{c.key}/{q.number}": list(q.answer)
                for c in definition.components
                for q in c.questions
                if q.answer is not None
            },
        },
    )
    return exam


def init_keys(
    db: Session,
    exam: ExamSession,
    *,
    actor: str,
    key_file: Path | None = None,
    passphrase: str | None = None,
    custodians: int | None = None,
    threshold: int | None = None,
    out_dir: Path | None = None,
) -> list[Path]:
    """Give the session its key pair; the private key leaves only as a key file or shares.

    Exactly one custody mode: ``key_file`` + ``passphrase``, or ``custodians`` +
    ``threshold`` + ``out_dir``. The public key is stored; the private key never is.
    Raises StateError if the session already has a key.
    """
    private, public = new_key_pair(exam)
    if key_file is not None:
        if passphrase is None:
            raise MarkingError("a key file needs a passphrase")
        exam.custody, exam.custodians, exam.threshold = Custody.KEY_FILE, 1, 1
        write_key_file(
            private,
            key_file,
            passphrase,
            session_code=exam.code,
            context=passphrase_context(exam),
        )
        written = [key_file]
    else:
        if custodians is None or threshold is None or out_dir is None:
            raise MarkingError("shares need --custodians, --threshold and --out")
        exam.custody, exam.custodians, exam.threshold = Custody.SHARES, custodians, threshold
        written = write_shares(
            private, out_dir, custodians=custodians, threshold=threshold, session_code=exam.code
        )
    del private
    record_keys(db, exam, public, actor=actor)
    return written


def passphrase_context(exam: ExamSession) -> list[str]:
    """The session's public facts a key passphrase may not be made of: station, date (as
    it is commonly written), occupation, its code and the level, and the pairs of them."""
    d = exam.date
    dates = [
        d.isoformat(),
        f"{d:%Y%m%d}",
        f"{d:%Y/%m/%d}",
        f"{d:%Y.%m.%d}",
        f"{d.year}年{d.month}月{d.day}日",
        f"{d:%Y年%m月%d日}",
        f"{d:%d.%m.%Y}",
        f"{d:%m/%d/%Y}",
        f"{d:%d%m%Y}",
        f"{d:%m%d}",
    ]
    levels = [str(exam.level), f"L{exam.level}", f"level{exam.level}", f"{exam.level}级"]
    facts = [exam.code, exam.station, exam.occupation, exam.occupation_code]
    pairs = [f"{a}{b}" for a in facts for b in [*facts, *dates, *levels] if a != b]
    return [*facts, *dates, *levels, *pairs]


def new_key_pair(exam: ExamSession) -> tuple[X25519PrivateKey, bytes]:
    """A fresh key pair for ``exam``, its public half stored with it; StateError if it has one.

    The caller hands the private half to its custodians and drops it, then ``record_keys``.
    """
    if exam.public_key is not None:
        raise StateError(
            f"session {exam.code} already has a key (fingerprint "
            f"{public_key_fingerprint(exam.public_key)}); a session's key is made once"
        )
    private, public = generate_keypair()
    exam.public_key = public
    return private, public


def record_keys(
    db: Session, exam: ExamSession, public: bytes, *, actor: str, **extra: object
) -> None:
    """Write the new key's custody to the ledger (``extra``: more of it, e.g. who holds it)."""
    db.flush()
    ledger.append(
        db,
        exam,
        kind="keys_created",
        actor=actor,
        payload={
            "custody": exam.custody.value if exam.custody else None,
            "custodians": exam.custodians,
            "threshold": exam.threshold,
            "public_key": public_key_fingerprint(public),
            **extra,
        },
    )
