"""The drift rule (DESIGN §13): when an examiner's recent seed marks raise an alarm.

Pure: seeds in, alarms out, so the rule is tested without a database and the evidence an
alarm stores is exactly what the rule read. Over the examiner's last ``RECENT`` seeds in a
group (newest first, as given):

- ``seeds_off``: at least ``OFF_COUNT`` of them further than the question's tolerance
  from the definitive mark;
- ``seed_bias``: with at least ``BIAS_MIN`` seeds, the mean signed deviation, each in
  units of its question's tolerance, beyond ``BIAS_SHARE`` of a tolerance either way
  (a steady lenient or severe examiner whose seeds all stay just inside the tolerance).

A question with tolerance 0 measures in its step instead (any deviation is then beyond the
tolerance, and one step counts as one unit of bias).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

RECENT = 10
OFF_COUNT = 3
BIAS_MIN = 5
BIAS_SHARE = Decimal("0.5")

SEEDS_OFF = "seeds_off"
SEED_BIAS = "seed_bias"


@dataclass(frozen=True, slots=True)
class SeedMark:
    """One seed as marked: the check it was, the definitive mark, the examiner's mark and
    the question's tolerance and step."""

    check_id: int
    expected: Decimal
    given: Decimal
    tolerance: Decimal
    step: Decimal

    @property
    def deviation(self) -> Decimal:
        return self.given - self.expected

    @property
    def unit(self) -> Decimal:
        return self.tolerance if self.tolerance > 0 else self.step

    @property
    def beyond(self) -> bool:
        return abs(self.deviation) > self.tolerance


@dataclass(frozen=True, slots=True)
class Alarm:
    kind: str
    evidence: dict[str, Any]


def alarms(seeds: Sequence[SeedMark]) -> list[Alarm]:
    """The alarms the examiner's seeds raise (newest first; only the first ``RECENT`` are
    read), each with its evidence: the seeds, the rule and the figures."""
    recent = list(seeds[:RECENT])
    if not recent:
        return []
    listed = [
        {
            "check": s.check_id,
            "expected": f"{s.expected:f}",
            "given": f"{s.given:f}",
            "deviation": f"{s.deviation:f}",
            "tolerance": f"{s.tolerance:f}",
        }
        for s in recent
    ]
    found: list[Alarm] = []
    off = sum(1 for s in recent if s.beyond)
    if off >= OFF_COUNT:
        found.append(
            Alarm(
                SEEDS_OFF,
                {
                    "rule": f"at least {OFF_COUNT} of the last {RECENT} seeds beyond tolerance",
                    "seeds": listed,
                    "beyond": off,
                    "of": len(recent),
                },
            )
        )
    if len(recent) >= BIAS_MIN:
        mean = sum((s.deviation / s.unit for s in recent), Decimal(0)) / len(recent)
        if abs(mean) > BIAS_SHARE:
            found.append(
                Alarm(
                    SEED_BIAS,
                    {
                        "rule": (
                            f"mean signed deviation over the last {RECENT} seeds beyond "
                            f"{BIAS_SHARE} of the tolerance"
                        ),
                        "seeds": listed,
                        "mean_in_tolerances": f"{mean.quantize(Decimal('0.001')):f}",
                        "of": len(recent),
                    },
                )
            )
    return found
