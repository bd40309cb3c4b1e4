"""The bare-driver worker of bench/queue.py: blindmark's queue statements by hand.

Through sqlite3 or psycopg directly, the statements ``marking.queue.claims.claim`` and
``marking.queue.marks.submit_mark`` emit (captured with SQLAlchemy's echo), in the same
transactions, ledger entry included, with the same hashes: the baseline the services are
measured against.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from decimal import Decimal
from typing import Any

from _queue_work import LEASE, Window, is_locked, mark_steps

# The examiner's open groups with the room left under each one's hold limit. Written with
# named parameters ({me}, {session}, ...: %(me)s for psycopg, :me for sqlite3).
_ROOMS = (
    "SELECT assignment.group_id, marking_group.max_held - (SELECT count(*) FROM lease "
    "JOIN response ON response.id = lease.response_id WHERE lease.examiner_id = {me} "
    "AND lease.state = 'held' AND response.group_id = assignment.group_id) AS room "
    "FROM assignment JOIN marking_group ON marking_group.id = assignment.group_id "
    "WHERE assignment.session_id = {session} AND assignment.examiner_id = {me} "
    "AND assignment.suspended_at IS NULL AND marking_group.approved_at IS NOT NULL "
    "ORDER BY assignment.group_id"
)
_EXPIRE = (
    "UPDATE lease SET state = 'expired' WHERE lease.state = 'held' AND lease.expires_at <= {p} "
    "AND lease.response_id IN (SELECT response.id FROM response JOIN script "
    "ON script.id = response.script_id WHERE script.session_id = {p}) "
    "RETURNING lease.id, lease.response_id"
)
_FREE = "UPDATE response SET held = response.held - {p} WHERE response.id = {p}"
# Up to {limit} takeable responses of group {group} in queue order from the claim's random
# start ({lap}: onward, or the wrap-around part before it).
_WINDOW = (
    "SELECT response.id FROM response WHERE response.group_id = {group} "
    "AND response.queue_key {lap} {start} "
    "AND response.state = 'open' AND response.marks_done + response.held < response.marks_needed "
    "AND NOT (EXISTS (SELECT * FROM mark WHERE mark.response_id = response.id "
    "AND mark.examiner_id = {me})) "
    "AND NOT (EXISTS (SELECT * FROM lease WHERE lease.response_id = response.id "
    "AND lease.examiner_id = {me} AND lease.state = 'held')) "
    "AND NOT (EXISTS (SELECT * FROM exclusion WHERE exclusion.script_id = response.script_id "
    "AND exclusion.examiner_id = {me})) ORDER BY response.queue_key LIMIT {limit}{lock}"
)
_FROM_START = (
    "SELECT onward.id FROM (" + _WINDOW.replace("{lap}", ">=") + ") AS onward UNION ALL "
    "SELECT wrapped.id FROM (" + _WINDOW.replace("{lap}", "<") + ") AS wrapped LIMIT {limit}"
)
_INSERT_LEASE = (
    "INSERT INTO lease (response_id, examiner_id, state, created_at, expires_at) "
    "VALUES ({p}, {p}, 'held', {p}, {p})"
)
_HOLD = "UPDATE response SET held = response.held + 1 WHERE response.id IN ({ids})"
_DESCRIBE = (
    "SELECT response.id, script.code, component.key, question.number, question.type, "
    "response.text, response.image_sha256, question.max, question.step, marking_group.key, "
    "question.reference, question.scheme FROM response "
    "JOIN script ON script.id = response.script_id "
    "JOIN question ON question.id = response.question_id "
    "JOIN component ON component.id = question.component_id "
    "JOIN marking_group ON marking_group.id = response.group_id "
    "WHERE response.id IN ({ids}) ORDER BY response.queue_key, response.id"
)
_HELD = (
    "SELECT lease.id, lease.expires_at, response.marks_done, response.marks_needed, "
    "question.max, question.step, question.tolerance, marking_group.marks_required, "
    "response.group_id "
    "FROM lease JOIN response ON response.id = lease.response_id "
    "JOIN question ON question.id = response.question_id "
    "JOIN marking_group ON marking_group.id = response.group_id "
    "WHERE lease.response_id = {p} AND lease.examiner_id = {p} AND lease.state = 'held' "
    "AND marking_group.session_id = {p}{lock}"
)
_INSERT_MARK = (
    "INSERT INTO mark (response_id, examiner_id, group_id, kind, value, lease_id, created_at) "
    "VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}) RETURNING id"
)
_LEASE_SUBMITTED = "UPDATE lease SET state = 'submitted' WHERE lease.id = {p}"
_EFFECTIVE = (
    "SELECT mark.value FROM mark WHERE mark.response_id = {p} AND NOT (EXISTS "
    "(SELECT * FROM mark_withdrawal WHERE mark_withdrawal.mark_id = mark.id)) "
    "ORDER BY mark.kind, mark.id"
)
_LANE_LOCK = (
    "INSERT INTO ledger_lane (session_id, lane, seq, hash) VALUES ({p}, {p}, 0, {p}) "
    "ON CONFLICT (session_id, lane) DO UPDATE SET seq = ledger_lane.seq "
    "RETURNING ledger_lane.seq, ledger_lane.hash"
)
_INSERT_ENTRY = (
    "INSERT INTO ledger_entry (session_id, lane, seq, kind, actor, payload, created_at, "
    "prev_hash, hash) VALUES ({p}, {p}, {p}, 'mark', {p}, {p}, {p}, {p}, {p})"
)
_ADVANCE_LANE = (
    "UPDATE ledger_lane SET seq = {p}, hash = {p} WHERE ledger_lane.session_id = {p} "
    "AND ledger_lane.lane = {p}"
)
# PostgreSQL: the mark in two statements, as marking.queue.marks.submit_mark sends them there.
_MARKS_SO_FAR = (
    "(SELECT array_agg(mark.{column} ORDER BY mark.kind, mark.id) FROM mark "
    "WHERE mark.response_id = response.id AND NOT (EXISTS (SELECT * FROM mark_withdrawal "
    "WHERE mark_withdrawal.mark_id = mark.id)))"
)
_HELD_FUSED = (
    f"WITH lane_tip AS ({_LANE_LOCK}) "
    "SELECT lease.id, lease.expires_at, response.marks_done, response.marks_needed, "
    "question.max, question.step, question.tolerance, marking_group.marks_required, "
    + _MARKS_SO_FAR.format(column="kind")
    + ", "
    + _MARKS_SO_FAR.format(column="value")
    + ", nextval(pg_get_serial_sequence('mark', 'id')), lane_tip.seq, lane_tip.hash, "
    "response.group_id "
    "FROM lease JOIN response ON response.id = lease.response_id "
    "JOIN question ON question.id = response.question_id "
    "JOIN marking_group ON marking_group.id = response.group_id JOIN lane_tip ON true "
    "WHERE lease.response_id = {p} AND lease.examiner_id = {p} AND lease.state = 'held' "
    "AND marking_group.session_id = {p} FOR UPDATE OF lease, response"
)
_FUSED_WRITE = (
    "WITH new_mark AS (INSERT INTO mark (id, response_id, examiner_id, group_id, kind, value, "
    "lease_id, created_at) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p})), "
    "submitted AS (" + _LEASE_SUBMITTED + "), "
    "counted AS (UPDATE response SET {assignments}, held = response.held - 1 "
    "WHERE response.id = {p}), "
    "advanced AS (" + _ADVANCE_LANE + ") " + _INSERT_ENTRY
)
GENESIS = "0" * 64
# PostgreSQL: the claim in one statement, as marking.queue.claims.claim sends it there (after the
# examiner's advisory lock, in a statement of its own).
_PG_NAMES = {"me": "%(me)s", "session": "%(session)s", "start": "%(start)s", "size": "%(size)s"}
_CLAIM_LOCK = "SELECT pg_advisory_xact_lock(25197, %(me)s)"
_CLAIM_FUSED = (
    "WITH rooms AS ("
    + _ROOMS.format(**_PG_NAMES)
    + "), picked AS (SELECT w.id FROM rooms JOIN LATERAL ("
    + _FROM_START.format(
        **_PG_NAMES,
        group="rooms.group_id",
        limit="least(greatest(rooms.room, 0), %(size)s)",
        lock=" FOR UPDATE OF response SKIP LOCKED",
    )
    + ") AS w ON true LIMIT %(size)s), "
    "counted AS (UPDATE response SET held = response.held + 1 "
    "WHERE response.id IN (SELECT picked.id FROM picked)), "
    "leased AS (INSERT INTO lease (response_id, examiner_id, state, created_at, expires_at) "
    "SELECT picked.id, %(me)s, 'held', %(now)s, %(expires)s FROM picked) "
    + _DESCRIBE.replace(
        "WHERE response.id IN ({ids})", "WHERE response.id IN (SELECT picked.id FROM picked)"
    )
)
_SQLITE_NAMES = {"me": ":me", "session": ":session", "start": ":start"}
_SQLITE_ROOMS = _ROOMS.format(**_SQLITE_NAMES)
_SQLITE_CANDIDATES = _FROM_START.format(**_SQLITE_NAMES, group=":group", limit=":size", lock="")


def _sqlite_time(moment: dt.datetime) -> str:
    """How SQLAlchemy stores a UTC timestamp in SQLite."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _sqlite_parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


class _Connection:
    """One bare connection and its transactions: sqlite3 (BEGIN IMMEDIATE) or psycopg
    (row locks)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        from marking.audit.ledger import entry_hash  # pure: sha256 over canonical JSON
        from marking.domain.rules import Final, NeedsArbitration, NeedsThird, reconcile

        self.entry_hash, self.reconcile = entry_hash, reconcile
        self.Final, self.NeedsThird, self.NeedsArbitration = Final, NeedsThird, NeedsArbitration
        self.spec = spec
        self.random = random.SystemRandom()  # the claim's starting point, as blindmark's
        self.sqlite = spec["kind"] == "sqlite"
        if self.sqlite:
            import sqlite3

            self.conn = sqlite3.connect(spec["path"], timeout=60, isolation_level=None)
            for pragma in (
                "journal_mode=WAL",
                "synchronous=NORMAL",
                "foreign_keys=ON",
                "busy_timeout=60000",
                "secure_delete=ON",
            ):
                self.conn.execute(f"PRAGMA {pragma}")
            p, lock, held_lock = "?", "", ""
            self.stamp: Any = _sqlite_time
        else:
            import psycopg

            self.conn = psycopg.connect(spec["dsn"])
            p, lock, held_lock = (
                "%s",
                " FOR UPDATE OF response SKIP LOCKED",
                (" FOR UPDATE OF lease, response"),
            )
            self.stamp = lambda moment: moment
        self.p, self.lock = p, lock
        self.sql = {
            name: text.format(p=p, lock=held_lock, groups="{groups}", ids="{ids}")
            for name, text in (
                ("expire", _EXPIRE),
                ("free", _FREE),
                ("insert_lease", _INSERT_LEASE),
                ("held", _HELD),
                ("insert_mark", _INSERT_MARK),
                ("lease_submitted", _LEASE_SUBMITTED),
                ("effective", _EFFECTIVE),
                ("effective_kinds", _EFFECTIVE.replace("mark.value", "mark.kind, mark.value", 1)),
                ("lane_lock", _LANE_LOCK),
                ("insert_entry", _INSERT_ENTRY),
                ("advance_lane", _ADVANCE_LANE),
                ("held_fused", _HELD_FUSED),
            )
        }
        self.session_id = spec["session_id"]
        self.username = spec["username"]
        cur = self._begin()
        (self.examiner_id,) = cur.execute(
            f"SELECT id FROM account WHERE username = {p}", (self.username,)
        ).fetchone()
        self.tolerance = {
            (key, number): int(tol)
            for key, number, tol in cur.execute(
                "SELECT component.key, question.number, question.tolerance FROM component "
                f"JOIN question ON question.component_id = component.id "
                f"WHERE component.session_id = {p}",
                (self.session_id,),
            )
        }
        self._commit()

    def server_pid(self) -> int | None:
        if self.sqlite:
            return None
        pid = self.conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        self.conn.commit()
        return int(pid)

    def _begin(self) -> Any:
        if self.sqlite:
            self.conn.execute("BEGIN IMMEDIATE")
            return self.conn
        return self.conn.cursor()

    def _commit(self) -> None:
        if self.sqlite:
            self.conn.execute("COMMIT")
        else:
            self.conn.commit()

    def _rollback(self) -> None:
        if self.sqlite:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
        else:
            self.conn.rollback()

    def close(self) -> None:
        self.conn.close()


class _Claims(_Connection):
    """The claim by hand: expire leases, take a batch, hold and describe it."""

    def claim(self, size: int) -> list[tuple[Any, ...]]:
        now = dt.datetime.now(dt.UTC)
        cur = self._begin()
        if not self.sqlite:
            cur.execute(_CLAIM_LOCK, {"me": self.examiner_id})
        rows = self._take(cur, size, now)
        if len(rows) < size and self._expire(cur, now):
            rows += self._take(cur, size - len(rows), now)
        self._commit()
        return rows

    def _expire(self, cur: Any, now: dt.datetime) -> int:
        freed: dict[int, int] = {}
        for _lease_id, response_id in cur.execute(
            self.sql["expire"], (self.stamp(now), self.session_id)
        ).fetchall():
            freed[response_id] = freed.get(response_id, 0) + 1
        for response_id, count in freed.items():
            cur.execute(self.sql["free"], (count, response_id))
        return sum(freed.values())

    def _take(self, cur: Any, size: int, now: dt.datetime) -> list[tuple[Any, ...]]:
        sql, me, p = self.sql, self.examiner_id, self.p
        expires = self.stamp(now + LEASE)
        start = self.random.randrange(2**31)
        if not self.sqlite:
            named = {"me": me, "session": self.session_id, "start": start, "size": size}
            return list(
                cur.execute(_CLAIM_FUSED, {**named, "now": now, "expires": expires}).fetchall()
            )
        ids: list[int] = []
        rooms = {"me": me, "session": self.session_id}
        for group, room in cur.execute(_SQLITE_ROOMS, rooms).fetchall():
            want = min(room, size - len(ids))
            if want > 0:
                window = {"group": group, "me": me, "start": start, "size": want}
                ids += [r[0] for r in cur.execute(_SQLITE_CANDIDATES, window).fetchall()]
        if not ids:
            return []
        cur.executemany(sql["insert_lease"], [(rid, me, self.stamp(now), expires) for rid in ids])
        marks = ", ".join([p] * len(ids))
        cur.execute(_HOLD.format(ids=marks), ids)
        return list(cur.execute(_DESCRIBE.format(ids=marks), ids).fetchall())


class _Marks(_Claims):
    """The mark by hand: the lease checked, the mark stored, reconciled and put in the
    ledger, in one transaction."""

    def submit(self, response_id: int, value: int) -> bool:
        """Store one mark (milli); False when the lease is gone (nothing stored)."""
        now = dt.datetime.now(dt.UTC)
        cur = self._begin()
        row = self._held(cur, response_id)
        if row is None or not self._acceptable(row, value, now):
            self._rollback()
            return False
        lease_id, _expires_at, done, needed, _top, step, tol, required = row[:8]
        kind = "third" if done >= required else "double"
        if self.sqlite:
            mark_id = self._insert_mark(cur, (response_id, row[-1], kind, value, lease_id), now)
        else:
            mark_id = row[10]
        done += 1
        changes: dict[str, Any] = {"marks_done": done}
        if done >= needed:
            marks = self._marks_with(cur, row, response_id, kind, value)
            changes.update(self._reconciled(marks, tol=tol, step=step, required=required))
        mark = (mark_id, response_id, kind, value, lease_id)
        if self.sqlite:
            self._write(cur, mark, changes, now)
        else:
            self._write_fused(cur, mark, changes, now, tip=(row[11], row[12]), group=row[-1])
        self._commit()
        return True

    def _held(self, cur: Any, response_id: int) -> Any:
        """The examiner's lease with the response's counters and rules, locked (PostgreSQL:
        with the marks so far, a mark id and the ledger lane's tip), or None."""
        me, lane = self.examiner_id, self.username
        if not self.sqlite:
            return cur.execute(
                self.sql["held_fused"],
                (self.session_id, lane, GENESIS, response_id, me, self.session_id),
            ).fetchone()
        return cur.execute(self.sql["held"], (response_id, me, self.session_id)).fetchone()

    def _acceptable(self, row: Any, value: int, now: dt.datetime) -> bool:
        """The lease is still live and the value in [0, max] on the question's step."""
        expires_at, top, step = row[1], row[4], row[5]
        if self.sqlite:
            expires_at = _sqlite_parse(expires_at)
        return not (expires_at <= now or not 0 <= value <= top or value % step)

    def _insert_mark(self, cur: Any, mark: tuple[Any, ...], now: dt.datetime) -> int:
        """SQLite: store the mark and mark its lease submitted; returns the mark's id."""
        response_id, group_id, kind, value, lease_id = mark
        me = self.examiner_id
        (mark_id,) = cur.execute(
            self.sql["insert_mark"],
            (response_id, me, group_id, kind, value, lease_id, self.stamp(now)),
        ).fetchone()
        cur.execute(self.sql["lease_submitted"], (lease_id,))
        return int(mark_id)

    def _marks_with(self, cur: Any, row: Any, response_id: int, kind: str, value: int) -> list[int]:
        """The response's effective marks (milli) in (kind, id) order, the new one in."""
        sql = self.sql
        if self.sqlite:
            return [v for (v,) in cur.execute(sql["effective"], (response_id,)).fetchall()]
        kinds, values = row[8], row[9]
        pairs = list(zip(kinds or (), values or (), strict=True))
        if len(pairs) != row[2]:  # a mark committed while this one waited for the lock
            pairs = cur.execute(
                sql["effective"].replace("SELECT mark.value", "SELECT mark.kind, mark.value"),
                (response_id,),
            ).fetchall()
        at = sum(1 for k, _v in pairs if k <= kind)
        return [v for _k, v in pairs[:at]] + [value] + [v for _k, v in pairs[at:]]

    def _reconciled(
        self, marks: list[int], *, tol: int, step: int, required: int
    ) -> dict[str, Any]:
        """The response's columns that DESIGN §5 changes, given all its marks."""
        outcome = self.reconcile(marks, tolerance=tol, step=step, required=required)
        if isinstance(outcome, self.Final):
            return {"state": "final", "final": outcome.value, "final_rule": outcome.rule}
        if isinstance(outcome, self.NeedsThird):
            return {"marks_needed": required + 1}
        if isinstance(outcome, self.NeedsArbitration):
            return {"state": "arbitration"}
        return {}

    def _ledger_rows(
        self, mark: tuple[Any, ...], now: dt.datetime, tip: tuple[int, str]
    ) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        """The mark's ledger entry after the lane's ``tip``, and the lane's new tip."""
        mark_id, response_id, kind, value, _lease_id = mark
        lane = self.username
        seq, prev = tip[0] + 1, tip[1]
        text = str(Decimal(value) / 1000)
        payload = {"mark": mark_id, "response": response_id, "value": text, "kind": kind}
        digest = self.entry_hash(
            session_id=self.session_id,
            lane=lane,
            seq=seq,
            kind="mark",
            actor=lane,
            payload=payload,
            created_at=now,
            prev_hash=prev,
        )
        entry = (
            self.session_id,
            lane,
            seq,
            lane,
            json.dumps(payload),
            self.stamp(now),
            prev,
            digest,
        )
        return entry, (seq, digest, self.session_id, lane)

    def _write(
        self, cur: Any, mark: tuple[Any, ...], changes: dict[str, Any], now: dt.datetime
    ) -> None:
        """SQLite: the response's new counters, then the ledger entry and the lane's tip."""
        p, response_id = self.p, mark[1]
        assignments = ", ".join(f"{name} = {p}" for name in changes)
        cur.execute(
            f"UPDATE response SET {assignments}, held = response.held - 1 WHERE response.id = {p}",
            (*changes.values(), response_id),
        )
        tip = cur.execute(
            self.sql["lane_lock"], (self.session_id, self.username, GENESIS)
        ).fetchone()
        entry, advance = self._ledger_rows(mark, now, tip)
        cur.execute(self.sql["insert_entry"], entry)
        cur.execute(self.sql["advance_lane"], advance)

    def _write_fused(
        self,
        cur: Any,
        mark: tuple[Any, ...],
        changes: dict[str, Any],
        now: dt.datetime,
        *,
        tip: tuple[int, str],
        group: int,
    ) -> None:
        """PostgreSQL: mark, lease, response, ledger entry and lane tip in one statement."""
        mark_id, response_id, kind, value, lease_id = mark
        entry, advance = self._ledger_rows(mark, now, tip)
        assignments = ", ".join(f"{name} = {self.p}" for name in changes)
        cur.execute(
            _FUSED_WRITE.format(p=self.p, assignments=assignments),
            (
                mark_id, response_id, self.examiner_id, group, kind, value, lease_id, now,
                lease_id,
                *changes.values(), response_id,
                *advance,
                *entry,
            ),
        )  # fmt: skip


class BaselineWorker(_Marks):
    """The same statements by hand: sqlite3 (BEGIN IMMEDIATE) or psycopg (row locks)."""

    def loop(self, window: Window, report: dict[str, Any], rng: random.Random) -> None:
        batch = self.spec["batch"]
        errors: tuple[type[BaseException], ...]
        if self.sqlite:
            import sqlite3

            errors = (sqlite3.Error,)
        else:
            import psycopg

            errors = (psycopg.Error,)
        while not window.over():
            try:
                claimed = self.claim(batch)
            except errors as exc:
                self._rollback()
                report["locked"] += is_locked(exc)
                report["errors"].append(f"claim: {exc}")
                continue
            report["claims"] += 1
            if not claimed:
                report["empty_claims"] += 1
                time.sleep(0.05)
                continue
            for row in claimed:
                response_id, component, number = row[0], row[2], row[3]
                top, step = int(row[7]), int(row[8])
                tol = self.tolerance[(component, number)] // step
                value = mark_steps(response_id, top // step, tol, rng) * step
                try:
                    stored = self.submit(response_id, value)
                except errors as exc:
                    self._rollback()
                    report["locked"] += is_locked(exc)
                    report["errors"].append(f"submit: {exc}")
                    continue
                if not stored:
                    report["lease_lost"] += 1
                    continue
                report["marks"] += 1
                window.tick()
                if window.over():
                    return
