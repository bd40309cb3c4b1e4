"""A web application over a database of the pass's kind, seeded through the real services,
and logged-in test clients per role."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.people.accounts import add_user, hash_password
from marking.queue import handles
from marking.setup.sessions import get_session
from marking.store import schema
from marking.store.db import transaction
from marking.store.models import Account, Role
from tests.conftest import FreshDatabase
from tests.integration.factory import (
    Tiny,
    add_examiners,
    add_staff,
    new_session,
    open_marking,
    people,
    take_in,
    tiny_rows,
    tiny_toml,
)
from web import create_app
from web.i18n import build

PASSWORD = "web-test-password-1"
#: The director's tick on the approval form: "I have reviewed ... I approve" (R16).
CONFIRMED = {"confirm": "yes"}
ROLES = ("admin", "office", "director", "lead", "examiner", "centre")
USERNAMES = {
    "admin": "admin",
    "office": "office",
    "director": "director",
    "lead": "lead",
    "examiner": "e1",
    "centre": "centre",
}


@pytest.fixture(scope="session", autouse=True)
def catalogs() -> None:
    build()


class World:
    """One database and app for a test module; sessions are made with ``session()``."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.database = FreshDatabase(tmp)
        schema.upgrade(self.database.engine)
        self.app: Flask = create_app(
            {
                "DATABASE_URL": self.database.url,
                "ENGINE": self.database.engine,
                "SECRET_KEY": "test-secret",
                "SESSION_COOKIE_SECURE": False,
                "TESTING": True,
                # Off for speed; tests/web/test_pacing.py and the browser tests keep it.
                "EXAMINER_PACE": 0,
            }
        )
        self._hash = hash_password(PASSWORD)

    def tx(self) -> Any:
        return transaction(self.database.engine)

    def session(
        self,
        code: str,
        *,
        n: int = 4,
        examiners: tuple[str, ...] = ("e1", "e2", "e3"),
        seed: int = 1,
        key_file: bool = False,
        open_groups: bool = True,
        level: int = 3,
    ) -> Tiny:
        """A tiny session (tests/integration/factory.py) at a station of its own, so R10's
        consecutive-session limit never bites; marking open unless told."""
        folder = self.tmp / code
        with self.tx() as db:
            add_staff(db)
            known = set(db.scalars(select(Account.username)))
            if missing := [u for u in examiners if u not in known]:
                add_examiners(db, folder, *missing)
            exam, keys = new_session(
                db, folder, tiny_toml(code, station=f"S-{code}", level=level), key_file=key_file
            )
            roster = people(n, seed=seed)
            summary = take_in(db, exam, folder / "batch", roster, tiny_rows(roster))
            if open_groups:
                open_marking(db, exam, {"short": examiners, "prac": examiners})
            self.passwords(db)
            return Tiny(exam, keys, roster, summary.batch_id)

    def passwords(self, db: Session) -> None:
        if db.query(Account).filter_by(username="admin").first() is None:
            add_user(db, "admin", role=Role.ADMIN)
        if db.query(Account).filter_by(username="centre").first() is None:
            add_user(db, "centre", role=Role.CENTRE)
        for account in db.query(Account):
            account.password_hash = self._hash

    def response_id(self, code: str, handle: str) -> int:
        """The row id behind a response handle, as only the test (not a user) may learn it."""
        with self.tx() as db:
            return handles.response_id(get_session(db, code), handle)

    def anomaly_id(self, code: str, handle: str) -> int:
        with self.tx() as db:
            return handles.anomaly_id(get_session(db, code), handle)

    def client(self, username: str | None) -> FlaskClient:
        client = self.app.test_client()
        if username is not None:
            login(client, username)
        return client


def csrf_of(client: FlaskClient) -> str:
    page = client.get("/login").get_data(as_text=True)
    found = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert found
    return found.group(1)


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> Any:
    token = csrf_of(client)
    answer = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    client.environ_base["HTTP_X_CSRFTOKEN"] = csrf_of(client)
    return answer


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    made = World(tmp_path_factory.mktemp("web"))
    try:
        yield made
    finally:
        made.database.drop()
