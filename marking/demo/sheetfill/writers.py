"""Bundles as a scanner delivers them: a multi-page PDF of page images, a multi-page TIFF,
or a folder of PNG / JPEG / TIFF files.

The PDF is made by img2pdf, which wraps images in a PDF without decoding them again: a
JPEG-compressed scan is embedded as its very JPEG (DCTDecode, as scanners do), the others
as the PNG's own Flate data (a black-and-white page at 1 bit a pixel), and each page is as
large as its scan at its own dpi (read from the image file). No dates (``nodate``) and no
file ID (img2pdf's own writer sets none): the same pages give the same bytes.

Memory: img2pdf builds the whole document before writing it, so ``write_pdf`` holds every
page of a bundle *compressed* (never its pixels: each page is drawn, encoded and dropped in
turn): about 2 MB a page over the corpus's default mix of noisy grey, colour, JPEG and
black-and-white scans at 150-300 dpi (less at 200 dpi grey). A bundle of a few hundred
pages, what a scanner writes in one go, holds a few hundred MB; a caller making more pages
(a 2,000-page bench) writes them as several bundles (``write_pdfs``, BUNDLE_PAGES each).
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

import cv2
from PIL import Image, TiffImagePlugin

from marking.demo.sheetfill.corpus import ScanImage
from marking.demo.sheetfill.degrade import Pixels, jpeg_bytes
from marking.demo.sheetfill.truth import BLACK_AND_WHITE

FILE_FORMATS = ("png", "jpeg", "tiff")
PNG_LEVEL = 1  # noisy scans barely compress; a higher level made writing the slowest step
JPEG_QUALITY = 92  # a page not degraded by JPEG written as a .jpg file
BUNDLE_PAGES = 200  # write_pdfs's pages a bundle: a scanner's bundle, ~400 MB held at most


class _Encoded:
    """One page's image file for img2pdf, which reads it once: given up when read, so only
    the document's own copy of the data stays in memory."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def read(self) -> bytes:
        data, self._data = self._data, b""
        return data


def _pdf_image(scan: ScanImage) -> bytes:
    """The scan as the file img2pdf embeds: its JPEG when it was compressed, else a PNG
    (1 bit a pixel for a black-and-white scan) that states its dpi."""
    if scan.jpeg is not None:
        return scan.jpeg
    dpi = scan.truth.scan.dpi
    image = _pil(scan.pixels)
    if scan.truth.scan.mode == BLACK_AND_WHITE:
        image = image.convert("1", dither=Image.Dither.NONE)
    out = io.BytesIO()
    image.save(out, "PNG", dpi=(dpi, dpi), compress_level=PNG_LEVEL)
    return out.getvalue()


def write_pdf(scans: Iterable[ScanImage], target: Path | BinaryIO) -> int:
    """A multi-page PDF of the scans, in order; returns the pages written. Holds the
    bundle's pages compressed until it is written (see the module's docstring)."""
    pages = [_Encoded(_pdf_image(scan)) for scan in scans]
    if not pages:
        raise ValueError("a PDF bundle needs at least one page")
    if isinstance(target, Path):
        with target.open("wb") as out:
            _convert(pages, out)
    else:
        _convert(pages, target)
    return len(pages)


def _convert(pages: list[_Encoded], out: BinaryIO) -> None:
    # imported here: img2pdf is a dev extra (the corpus is for tests and the bench), and the
    # rest of the package (PNG, TIFF files) must import without it. Its own writer engine:
    # pikepdf's would hold the same pages and linearize them besides.
    import img2pdf

    img2pdf.convert(pages, outputstream=out, nodate=True, engine=img2pdf.Engine.internal)


def write_pdfs(
    scans: Iterable[ScanImage], folder: Path, *, pages: int = BUNDLE_PAGES
) -> list[Path]:
    """The scans as PDF bundles of at most ``pages`` pages each in ``folder`` (0001.pdf, …),
    as a scanner splits a long run: one bundle's pages in memory at a time."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    iterator = iter(scans)
    while (first := next(iterator, None)) is not None:
        path = folder / f"{len(written) + 1:04d}.pdf"
        write_pdf(itertools.chain([first], itertools.islice(iterator, pages - 1)), path)
        written.append(path)
    return written


def _pil(pixels: Pixels) -> Image.Image:
    return Image.fromarray(pixels if pixels.ndim == 2 else cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB))


def write_tiff(scans: Iterable[ScanImage], target: Path) -> int:
    """A multi-page TIFF (Deflate), each page with its own dpi; returns the pages written."""
    count = 0
    with target.open("w+b") as out, TiffImagePlugin.AppendingTiffWriter(out, new=True) as tiff:
        for scan in scans:
            dpi = scan.truth.scan.dpi
            _pil(scan.pixels).save(tiff, "TIFF", compression="tiff_adobe_deflate", dpi=(dpi, dpi))
            tiff.newFrame()
            count += 1
    return count


def file_bytes(scan: ScanImage, fmt: str) -> bytes:
    """One scan as a PNG, JPEG (its own JPEG when it was compressed) or TIFF file."""
    dpi = scan.truth.scan.dpi
    if fmt == "jpeg":
        return scan.jpeg or jpeg_bytes(scan.pixels, JPEG_QUALITY, dpi)
    if fmt not in FILE_FORMATS:
        raise ValueError(f"no file format {fmt!r}: one of {', '.join(FILE_FORMATS)}")
    out = io.BytesIO()
    if fmt == "png":
        _pil(scan.pixels).save(out, "PNG", dpi=(dpi, dpi), compress_level=3)
    else:
        _pil(scan.pixels).save(out, "TIFF", compression="tiff_adobe_deflate", dpi=(dpi, dpi))
    return out.getvalue()


def write_files(scans: Iterable[ScanImage], folder: Path, fmt: str = "png") -> list[Path]:
    """One file a scan in ``folder``, named in bundle order (0001.png, …): a folder a
    scanner filled. Returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    suffix = {"png": ".png", "jpeg": ".jpg", "tiff": ".tif"}.get(fmt, "")
    paths = []
    for number, scan in enumerate(scans, start=1):
        path = folder / f"{number:04d}{suffix}"
        path.write_bytes(file_bytes(scan, fmt))
        paths.append(path)
    return paths
