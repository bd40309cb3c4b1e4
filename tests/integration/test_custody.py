"""The engine's rules for key custody in the browser (issue 9, item 13): k-of-n shares
reach each custodian alone, once, and wait wrapped under a key the database does not hold."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anonymizer.custody import share_wrapping_key
from anonymizer.errors import BadShare, NotEnoughShares, WeakPassphrase
from anonymizer.unseal import SessionKey
from marking.audit.verify import verify
from marking.domain.definition import parse_session_definition
from marking.errors import MarkingError, NotFound, StateError
from marking.people.accounts import add_user
from marking.setup import custody
from marking.setup.sessions import create_session, init_keys
from marking.store.models import Account, CustodyShare, ExamSession, LedgerEntry, Role
from tests.integration import factory as f

SECRET = "the application's secret key, for tests"
KEY = share_wrapping_key(SECRET)


def keyless(db: Session, code: str) -> ExamSession:
    f.add_staff(db)
    add_user(db, "admin1", role=Role.ADMIN)
    toml = f.tiny_toml(code, station=f"S-{code}")
    return create_session(db, parse_session_definition(toml), source=toml, actor="office")


def staff(db: Session, username: str) -> Account:
    found = db.scalar(select(Account).where(Account.username == username))
    assert found is not None
    return found


def test_shares_reach_each_custodian_alone_and_once(db: Session) -> None:
    exam = keyless(db, "CUST-1")
    office = staff(db, "office")
    states = custody.hand_out_shares(
        db,
        exam,
        actor=office,
        custodians=["office", "director", "admin1"],
        threshold=2,
        wrapping_key=KEY,
    )
    assert [(s.name, s.downloaded) for s in states] == [
        ("office", False),
        ("director", False),
        ("admin1", False),
    ]
    assert exam.public_key is not None and (exam.custodians, exam.threshold) == (3, 2)
    assert [w.session for w in custody.waiting_shares(db, staff(db, "director"))] == ["CUST-1"]
    assert custody.waiting_shares(db, staff(db, "lead")) == []

    with pytest.raises(NotFound, match="no share"):
        custody.take_share(db, exam, staff(db, "lead"), wrapping_key=KEY)
    # A server whose secret key is not the one the shares were wrapped under opens none.
    with pytest.raises(BadShare):
        custody.take_share(
            db, exam, staff(db, "director"), wrapping_key=share_wrapping_key("another secret")
        )

    texts = {}
    for name in ("office", "director"):
        filename, text = custody.take_share(db, exam, staff(db, name), wrapping_key=KEY)
        assert filename.startswith("CUST-1-share-") and "session: CUST-1" in text
        texts[name] = text
        with pytest.raises(StateError, match="downloaded your share"):
            custody.take_share(db, exam, staff(db, name), wrapping_key=KEY)
    left = db.scalar(select(func.count()).select_from(CustodyShare))
    assert left == 1
    assert [s.downloaded for s in custody.custodian_states(db, exam)] == [True, True, False]
    kinds = db.scalars(
        select(LedgerEntry.kind).where(LedgerEntry.session_id == exam.id).order_by(LedgerEntry.id)
    ).all()
    assert kinds.count("share_taken") == 2
    assert verify(db, exam).ok
    key = SessionKey.from_shares(list(texts.values()), expected_public_key=exam.public_key)
    assert key.public_key == exam.public_key
    with pytest.raises(NotEnoughShares):
        SessionKey.from_shares([texts["office"]], expected_public_key=exam.public_key)


@pytest.mark.parametrize(
    ("custodians", "error", "reason"),
    [
        (["office", "office", "director"], MarkingError, "named twice"),
        (["office", "e1"], MarkingError, "examiner"),
        (["office"], MarkingError, "at least two"),
        (["office", "nobody"], NotFound, "nobody"),
    ],
)
def test_custodians_are_distinct_staff_accounts(
    db: Session, tmp_path: Path, custodians: list[str], error: type[Exception], reason: str
) -> None:
    exam = keyless(db, "CUST-2")
    f.add_examiners(db, tmp_path, "e1")
    with pytest.raises(error, match=reason):
        custody.hand_out_shares(
            db,
            exam,
            actor=staff(db, "office"),
            custodians=custodians,
            threshold=2,
            wrapping_key=KEY,
        )
    assert exam.public_key is None
    assert db.scalar(select(func.count()).select_from(CustodyShare)) == 0


def test_a_session_key_is_made_once_in_the_browser_too(db: Session) -> None:
    exam = keyless(db, "CUST-3")
    kwargs = {"custodians": ["office", "director"], "threshold": 2, "wrapping_key": KEY}
    custody.hand_out_shares(db, exam, actor=staff(db, "office"), **kwargs)  # type: ignore[arg-type]
    with pytest.raises(StateError, match="already has a key"):
        custody.hand_out_shares(db, exam, actor=staff(db, "office"), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "passphrase",
    [
        "GD-0107-2026-12-05",  # the station and the date
        "blindmark-AT-D2",  # the product and the session code
        "gd0107 20261205",
        "2026年12月5日 GD-0107",
        f"{f.OCCUPATION} level 2",
    ],
)
def test_a_key_passphrase_made_of_the_sessions_public_facts_is_refused(
    db: Session, tmp_path: Path, passphrase: str
) -> None:
    toml = f.tiny_toml("AT-D2", level=2, date="2026-12-05", station="GD-0107")
    exam = create_session(db, parse_session_definition(toml), source=toml, actor="office")
    key_file = tmp_path / "AT-D2.key"
    with pytest.raises(WeakPassphrase, match="too easy to guess"):
        init_keys(db, exam, actor="office", key_file=key_file, passphrase=passphrase)
    assert not key_file.exists()  # the caller's transaction rolls the public key back
