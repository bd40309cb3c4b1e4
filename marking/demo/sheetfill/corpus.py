"""A corpus: filled sheets for a roster, their pages in bundle order (faults injected), and
the truth; the pages drawn one at a time on demand, identically every time.

Only the truth is held: a page is planned, drawn and degraded when asked for, from seeds
that depend on the corpus's seed and the page's identity, never on what was drawn before.
So 2,000 pages take the memory of one, ``image(i)`` can be called in any order or in
worker processes, and the same seed always gives the same bytes.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from marking.demo.sheetfill.blank import SheetSource, sheet_page
from marking.demo.sheetfill.degrade import Pixels, ScanPlan, degrade, plan_scan, scan_truth
from marking.demo.sheetfill.draw import draw_ink
from marking.demo.sheetfill.ink import PagePlan, SheetSpec, plan_page, sheet_spec
from marking.demo.sheetfill.truth import (
    FOREIGN_PAGE,
    REPEATED_PAGE,
    SHEET_PAGE,
    Degrade,
    Faults,
    Mix,
    PageTruth,
    SheetTruth,
)
from marking.domain.definition import QuestionDef
from marking.paper.codes import SERIAL_ALPHABET, new_serials

MAIN, FOREIGN = 0, 1  # the random streams of the corpus's sheets and another session's


@dataclass(frozen=True, eq=False)
class ScanImage:
    """One page of the bundle: its pixels (grey H×W, or BGR H×W×3 on a colour scan), the
    JPEG they decode from when the scan was compressed, and its truth."""

    pixels: Pixels
    jpeg: bytes | None
    truth: PageTruth


@dataclass(frozen=True, slots=True)
class _Slot:
    kind: str
    stream: int
    index: int
    page: int
    copy: int  # 1 for a page's second scan


@dataclass(frozen=True)
class Corpus:
    """Filled, degraded scans of one component's sheets and the truth about them.

    ``sheets`` is one SheetTruth per exam number given, in that order; ``pages`` the
    bundle's pages in order (PageTruth.position is the index); ``foreign`` the sheets of
    another session whose pages were slipped in."""

    source: SheetSource
    other: SheetSource
    mix: Mix
    knobs: Degrade
    sheets: tuple[SheetTruth, ...]
    foreign: tuple[SheetTruth, ...]
    pages: tuple[PageTruth, ...]
    _specs: tuple[tuple[SheetSpec, ...], tuple[SheetSpec, ...]]
    _slots: tuple[_Slot, ...]
    _plans: tuple[ScanPlan, ...]

    def image(self, position: int) -> ScanImage:
        """The page at ``position`` of the bundle, drawn and degraded."""
        slot, plan = self._slots[position], self._plans[position]
        source = self.source if slot.stream == MAIN else self.other
        spec = self._specs[slot.stream][slot.index]
        pixels = sheet_page(source, spec.serial, slot.page, plan.dpi)
        layout_page = source.layout.pages[slot.page - 1]
        draw_ink(pixels, plan_page(spec, layout_page, _questions(source), self.mix).ink, plan.dpi)
        scanned, jpeg = degrade(pixels, plan)
        return ScanImage(scanned, jpeg, self.pages[position])

    def images(self) -> Iterator[ScanImage]:
        """The bundle's pages in order, one at a time."""
        for position in range(len(self.pages)):
            yield self.image(position)

    def sheet(self, serial: str) -> SheetTruth:
        return next(s for s in (*self.sheets, *self.foreign) if s.serial == serial)


def _questions(source: SheetSource) -> dict[str, QuestionDef]:
    return {q.number: q for q in source.component.questions}


def make_corpus(
    source: SheetSource,
    exam_numbers: Sequence[str],
    *,
    seed: int,
    serials: Sequence[str] | None = None,
    mix: Mix = Mix(),  # noqa: B008 - frozen
    degrade: Degrade = Degrade(),  # noqa: B008 - frozen
    faults: Faults = Faults(),  # noqa: B008 - frozen
    other: SheetSource | None = None,
) -> Corpus:
    """One filled sheet set per exam number (the roster's, in order), scanned into one
    bundle with ``faults`` injected, and the truth.

    ``serials`` are the sets' serials (e.g. those ``issue_sheets`` recorded, so the engine
    takes them); by default drawn from the seed. ``other`` is the session the foreign
    pages come from (default: this one's definition under another session code). Raises
    ValueError when the serials and exam numbers do not pair up, an exam number does not
    fit the sheets' grid, or the faults ask for more pages than there are.
    """
    rng = random.Random(f"sheetfill:{seed}:corpus")
    if serials is None:
        serials = new_serials(len(exam_numbers), choice=rng.choice)
    if len(serials) != len(exam_numbers):
        raise ValueError(f"{len(serials)} serials for {len(exam_numbers)} exam numbers")
    digits = source.layout.exam_number_digits
    for number in exam_numbers:
        if len(number) != digits or not number.isdigit():
            raise ValueError(f"exam number {number!r}: the sheets' grid takes {digits} digits")
    other = other or _other_session(source)
    specs = tuple(
        sheet_spec(seed, MAIN, i, serial, number, mix)
        for i, (serial, number) in enumerate(zip(serials, exam_numbers, strict=True))
    )
    slots, missing, foreign_specs = _bundle(rng, specs, source, faults, seed, mix, digits)
    plans = tuple(
        plan_scan(
            random.Random(f"sheetfill:{seed}:scan:{s.stream}:{s.index}:{s.page}:{s.copy}"), degrade
        )
        for s in slots
    )
    sources = (source, other)
    truths = (
        tuple(_sheet_truth(source, spec, mix, missing.get(spec.index, ())) for spec in specs),
        tuple(_sheet_truth(other, spec, mix, ()) for spec in foreign_specs),
    )
    pages = tuple(
        PageTruth(
            position=position,
            kind=slot.kind,
            session=sources[slot.stream].session.code,
            serial=truths[slot.stream][slot.index].serial,
            page=slot.page,
            code=truths[slot.stream][slot.index].codes[slot.page - 1],
            scan=scan_truth(plan, sources[slot.stream].blank(slot.page, plan.dpi).shape[:2]),
        )
        for position, (slot, plan) in enumerate(zip(slots, plans, strict=True))
    )
    return Corpus(
        source,
        other,
        mix,
        degrade,
        truths[0],
        truths[1],
        pages,
        (specs, foreign_specs),
        tuple(slots),
        plans,
    )


def _other_session(source: SheetSource) -> SheetSource:
    """The same sheets printed for another session: only the session code differs."""
    session = dataclasses.replace(source.session, code=source.session.code[:60] + "-OTH")
    return dataclasses.replace(source, session=session)


def _bundle(
    rng: random.Random,
    specs: tuple[SheetSpec, ...],
    source: SheetSource,
    faults: Faults,
    seed: int,
    mix: Mix,
    digits: int,
) -> tuple[list[_Slot], dict[int, tuple[int, ...]], tuple[SheetSpec, ...]]:
    """The bundle's page order: every page of every sheet, then the faults."""
    count = len(source.layout.pages)
    slots = [_Slot(SHEET_PAGE, MAIN, s.index, p, 0) for s in specs for p in range(1, count + 1)]
    if faults.missing + faults.repeated > len(slots):
        raise ValueError(
            f"{faults.missing} missing and {faults.repeated} repeated pages of {len(slots)}"
        )
    gone = sorted(rng.sample(range(len(slots)), faults.missing), reverse=True)
    missing: dict[int, tuple[int, ...]] = {}
    for at in gone:
        slot = slots.pop(at)
        missing[slot.index] = tuple(sorted((*missing.get(slot.index, ()), slot.page)))
    for at in sorted(rng.sample(range(len(slots)), faults.repeated), reverse=True):
        slot = slots[at]
        slots.insert(at + 1, _Slot(REPEATED_PAGE, MAIN, slot.index, slot.page, 1))
    foreign_specs = tuple(
        sheet_spec(
            seed,
            FOREIGN,
            j,
            "".join(rng.choice(SERIAL_ALPHABET) for _ in range(10)),
            "".join(rng.choice("0123456789") for _ in range(digits)),
            mix,
        )
        for j in range(faults.foreign)
    )
    for spec in foreign_specs:
        slots.insert(
            rng.randrange(len(slots) + 1),
            _Slot(FOREIGN_PAGE, FOREIGN, spec.index, rng.randint(1, count), 0),
        )
    if faults.shuffle:
        rng.shuffle(slots)
    return slots, missing, foreign_specs


def _sheet_truth(
    source: SheetSource, spec: SheetSpec, mix: Mix, missing: tuple[int, ...]
) -> SheetTruth:
    questions = _questions(source)
    plans: list[PagePlan] = [plan_page(spec, page, questions, mix) for page in source.layout.pages]
    return SheetTruth(
        serial=spec.serial,
        session=source.session.code,
        component=source.layout.component,
        exam_number=spec.number,
        absent=spec.absent,
        violation=spec.violation,
        rows=tuple(row for plan in plans for row in plan.rows),
        boxes=tuple(box for plan in plans for box in plan.boxes),
        codes=tuple(source.code(spec.serial, page.number) for page in source.layout.pages),
        missing_pages=missing,
    )
