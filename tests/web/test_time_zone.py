"""Times on a session's pages are the session's local time (issue 14, R1): Asia/Shanghai
unless its session.toml says ``time_zone``; the database keeps UTC."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from marking.setup.sessions import get_session
from marking.store.models import Account, AlarmKind, CheckAlarm
from tests.web.conftest import World
from web.formatting import when

LATE = dt.datetime(2026, 6, 30, 17, 30, tzinfo=dt.UTC)  # 01:30 on 1 July in Shanghai


def _alarm(world: World, code: str) -> None:
    """A drift alarm raised at ``LATE``, for the lead's inbox of ``code``."""
    with world.tx() as db:
        exam = get_session(db, code)
        e1 = db.scalar(select(Account.id).where(Account.username == "e1"))
        assert e1 is not None
        db.add(
            CheckAlarm(
                session_id=exam.id,
                group_id=exam.groups[0].id,
                examiner_id=e1,
                kind=AlarmKind.SEEDS_OFF,
                evidence={},
                raised_at=LATE,
            )
        )


def test_a_late_utc_time_shows_as_the_next_morning_in_shanghai(world: World) -> None:
    world.session("TZ-1")
    _alarm(world, "TZ-1")
    page = world.client("lead").get("/lead/sessions/TZ-1/quality/alarms").get_data(as_text=True)
    assert "2026年7月1日 01:30:00" in page and "17:30" not in page


def test_a_session_in_another_time_zone_shows_its_own_local_time(world: World) -> None:
    world.session("TZ-2")
    with world.tx() as db:
        exam = get_session(db, "TZ-2")
        exam.definition = exam.definition.replace(
            'station = "S-TZ-2"', 'station = "S-TZ-2"\ntime_zone = "Asia/Urumqi"'
        )
    _alarm(world, "TZ-2")
    page = world.client("lead").get("/lead/sessions/TZ-2/quality/alarms").get_data(as_text=True)
    assert "2026年6月30日 23:30:00" in page  # UTC+6
    # A page about no session keeps the centre's zone.
    with world.app.test_request_context("/office/examiners"):
        assert when(LATE) == "2026年7月1日 01:30:00"
    with world.app.test_request_context("/office/sessions/TZ-2"):
        assert when(LATE) == "2026年6月30日 23:30:00"
