"""Pages from scan files (PDF bundles, PNG/JPEG/TIFF, folders), one page in memory at a time.

A stub in the engine's branch: piece A (the "omr" helper) writes the real one; the engine
only needs these names, and its tests drive the scan step with a fake reader instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from marking.paper.reading import Grey


@dataclass(frozen=True, eq=False)
class ScanPage:
    """One page of a scan file: the file's name, its number in the file (from 1), its
    pixels (grey) and the resolution the file states, if any."""

    source: str
    number: int
    image: Grey
    dpi: float | None


def scan_pages(paths: Iterable[Path], *, dpi: int = 200) -> Iterator[ScanPage]:
    """Every page of ``paths`` in order (stub: piece A provides it)."""
    raise NotImplementedError("marking.paper.sources.scan_pages comes with the page reader")


def count_pages(path: Path) -> int:
    """How many pages a scan file holds (stub: piece A provides it)."""
    raise NotImplementedError("marking.paper.sources.count_pages comes with the page reader")
