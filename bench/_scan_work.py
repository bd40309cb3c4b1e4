"""What bench/scan.py runs in its worker processes (spawned: each a fresh interpreter, so its
peak RSS is its own): writing part of the corpus, reading files through the scan engine, and
the floor (render + QR decode only).

Imports of the project happen inside the functions: the floor's processes load pypdfium2,
zxingcpp and numpy only, as a bare reader would.
"""

from __future__ import annotations

# isort: off
import _paths  # noqa: F401  (first: bench/'s script names shadow stdlib and project modules)

# isort: on
import resource
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DPI = 200


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass(frozen=True)
class CorpusPart:
    """Pages ``start``..``stop`` of the corpus, written as one bundle file."""

    toml: str
    key: bytes
    serials: tuple[str, ...]
    numbers: tuple[str, ...]
    seed: int
    start: int
    stop: int
    out: str


def write_part(part: CorpusPart) -> int:
    """Draw this part's pages (the corpus is seeded per page: any process draws the same)
    and write them as a PDF bundle, as a scanner would."""
    from marking.demo.sheetfill import (
        CLEAN_MIX,
        Degrade,
        make_corpus,
        source_from_definition,
        write_pdf,
    )
    from marking.domain.definition import parse_session_definition

    # A sheet-fed office scanner: 200 dpi grey, JPEG in the PDF, pages a little askew, a
    # few fed upside down.
    scanner = Degrade(
        dpis=(DPI,), upside_down=0.1, skew=2.0, scale=0.01, noise=3.0, blur=0.05, jpeg=1.0,
        jpeg_quality=75, colour=0, black_and_white=0,
    )  # fmt: skip
    source = source_from_definition(parse_session_definition(part.toml), "theory", key=part.key)
    corpus = make_corpus(
        source, part.numbers, seed=part.seed, serials=part.serials, mix=CLEAN_MIX,
        degrade=scanner,
    )  # fmt: skip
    partial = Path(part.out + ".part")
    written = write_pdf((corpus.image(i) for i in range(part.start, part.stop)), partial)
    partial.rename(part.out)
    return written


def read_files(url: str, file_ids: list[int], profile: str | None = None) -> dict[str, Any]:
    """``process_file`` on each file, in this process, as a worker does; pages, seconds, peak
    RSS. With ``profile``, cProfile's statistics are written there."""
    from marking.paper.scanning import process_file
    from marking.store.db import make_engine, session_factory

    engine = make_engine(url)
    factory = session_factory(engine)
    start = time.perf_counter()
    pages, closed = 0, False

    def run() -> None:
        nonlocal pages, closed
        for file_id in file_ids:
            result = process_file(factory, file_id, owner=f"bench:{file_id}")
            pages += result.pages
            closed = closed or result.batch_closed

    if profile:
        import cProfile

        cProfile.runctx("run()", globals(), locals(), profile)
    else:
        run()
    seconds = time.perf_counter() - start
    engine.dispose()
    return {"pages": pages, "seconds": seconds, "closed": closed, "rss_mib": peak_rss_mib()}


def floor_files(paths: list[str]) -> dict[str, Any]:
    """Render each page grey at 200 dpi with pypdfium2 and read its QR code with zxingcpp:
    what any reader of these bundles must do, nothing more."""
    import numpy as np
    import pypdfium2 as pdfium
    import zxingcpp

    start = time.perf_counter()
    pages = decoded = 0
    formats = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    for path in paths:
        document = pdfium.PdfDocument(path)
        for index in range(len(document)):
            page = document[index]
            bitmap = page.render(scale=DPI / 72, grayscale=True)
            pixels = np.array(bitmap.to_numpy(), dtype=np.uint8)
            bitmap.close()
            page.close()
            found = zxingcpp.read_barcodes(pixels, formats=formats)
            decoded += any(b.valid for b in found)
            pages += 1
        document.close()
    seconds = time.perf_counter() - start
    return {"pages": pages, "decoded": decoded, "seconds": seconds, "rss_mib": peak_rss_mib()}
