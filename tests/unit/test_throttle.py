"""The login throttle's rule (web/security.py): a fixed number of guesses an hour per
bucket, and never a wait longer than the cap (issue 9, item 12)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from web.security import throttle_wait

RULE = {"limit": 5, "delay": 30.0, "cap": 900.0, "forget": 3600.0}
T0 = dt.datetime(2026, 12, 5, 8, 0, tzinfo=dt.UTC)


def guesses_in(hours: float) -> int:
    """Attempts an attacker who tries the moment it is allowed makes in ``hours``."""
    failures, last_at, now, made = 0, None, T0, 0
    end = T0 + dt.timedelta(hours=hours)
    while True:
        now += dt.timedelta(seconds=throttle_wait(failures, last_at, now, **RULE))
        if now >= end:
            return made
        quiet = last_at is None or (now - last_at).total_seconds() >= RULE["forget"]
        failures, last_at, made = (0 if quiet else failures) + 1, now, made + 1


def test_an_attacker_gets_a_fixed_number_of_guesses_an_hour() -> None:
    first_hour = guesses_in(1)
    assert first_hour <= RULE["limit"] + 8  # the free ones, then 30 s, 1 min, 2 min... 15 min
    # ...and four an hour after that, for as long as the attack goes on.
    assert guesses_in(11) - first_hour <= 10 * 60 / 15 + 1


@given(failures=st.integers(0, 10**6), ago=st.floats(0, 10**6))
def test_no_wait_is_longer_than_the_cap(failures: int, ago: float) -> None:
    last_at = T0 - dt.timedelta(seconds=ago)
    assert 0 <= throttle_wait(failures, last_at, T0, **RULE) <= RULE["cap"]


def test_the_limit_is_free_then_the_wait_doubles() -> None:
    assert [throttle_wait(n, T0, T0, **RULE) for n in range(4, 10)] == [
        0,
        30,
        60,
        120,
        240,
        480,
    ]
    assert throttle_wait(50, T0, T0, **RULE) == 900
    assert throttle_wait(50, T0 - dt.timedelta(hours=1), T0, **RULE) == 0  # forgotten
