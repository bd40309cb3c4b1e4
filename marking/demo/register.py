"""A synthetic register (no database): for the report tests, the benchmark and previews."""

from __future__ import annotations

import hashlib
import random

from marking.demo.synthetic import roster
from reports.data import (
    CandidateRow,
    ComponentInfo,
    GroupAttribution,
    PublicationInfo,
    Register,
    SessionInfo,
)


def sample_register(n: int, *, seed: int = 1, level: int = 3) -> Register:
    """``n`` candidates with Chinese names and plausible scores and outcomes."""
    rng = random.Random(seed)
    components = (ComponentInfo("theory", "理论知识"), ComponentInfo("skills", "操作技能"))
    interview = level <= 2
    rows = []
    for c in roster(n, seed=seed):
        scores: list[str | None] = []
        for _ in components:
            scores.append(None if rng.random() < 0.02 else f"{rng.gauss(70, 12):.1f}")
        scores = [None if s is None else f"{min(100.0, max(0.0, float(s))):.1f}" for s in scores]
        panel = f"{min(100.0, max(0.0, rng.gauss(72, 8))):.1f}" if interview else None
        present = [float(s) for s in scores if s is not None]
        if len(present) < len(scores) or (interview and panel is None):
            outcome = "absent"
        elif rng.random() < 0.005:
            outcome = "void"
        elif all(s >= 60 for s in present) and (panel is None or float(panel) >= 60):
            outcome = "pass"
        else:
            outcome = "fail"
        rows.append(
            CandidateRow(
                c.exam_no, c.name, c.id_number, c.institution, outcome, tuple(scores), panel
            )
        )
    digest = hashlib.sha256(f"results {seed} {n}".encode()).hexdigest()
    head = hashlib.sha256(f"ledger {seed} {n}".encode()).hexdigest()
    groups = (
        GroupAttribution(
            "short",
            "简答题",
            ("考评员甲 (exam001)", "考评员乙 (exam002)"),
            ("考评员丙 (exam003)",),
            ("组长 (lead)",),
            "组长 (lead)",
            "2026-12-05 08:00",
            "2026-12-05 09:00",
            "2026-12-05 17:00",
            2 * n,
        ),
        GroupAttribution(
            "prac",
            "实操题",
            ("考评员丁 (exam004)", "考评员戊 (exam005)"),
            (),
            (),
            "组长 (lead)",
            "2026-12-05 08:05",
            "2026-12-05 09:10",
            "2026-12-05 16:40",
            2 * n,
        ),
    )
    return Register(
        session=SessionInfo("2026-GD-0412", "电工", "6-31-01-03", level, "2026-12-05", "GD-0107"),
        components=components,
        has_interview=interview,
        rows=tuple(rows),
        groups=groups,
        publication=PublicationInfo(
            "办公室 (office)", "主任 (director)", "2026-12-20T16:00:00+08:00", digest, head, n
        ),
        lead="组长 (lead)",
    )
