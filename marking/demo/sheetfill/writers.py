"""Bundles as a scanner delivers them: a multi-page PDF of page images, a multi-page TIFF,
or a folder of PNG / JPEG / TIFF files, written page by page (one page in memory).

The PDF is written here, directly, rather than through Pillow or pdfium: both hold every
page until the file is saved (gigabytes for a 2,000-page bench bundle), Pillow gives all
pages one resolution, and a dozen objects per page in the PDF 1.4 syntax are all a scanner's
bundle is. Each page is as large as its scan at its own dpi; a JPEG-compressed scan is
embedded as its very JPEG (DCTDecode, as scanners do), others losslessly (Flate; a
black-and-white page at 1 bit a pixel). No dates, no random IDs: the same pages give the
same bytes.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np
from PIL import Image, TiffImagePlugin

from marking.demo.sheetfill.corpus import ScanImage
from marking.demo.sheetfill.degrade import Pixels, jpeg_bytes

FILE_FORMATS = ("png", "jpeg", "tiff")
ZLIB_LEVEL = 1  # noisy scans barely compress; level 6 made writing the slowest step
JPEG_QUALITY = 92  # a page not degraded by JPEG written as a .jpg file


class _PdfWriter:
    """Objects written as they come; the page tree and the cross-reference at the end."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.offsets: list[int] = []
        self.written = 0
        self.kids: list[int] = []
        self._write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        self.catalog = self._object(b"<< /Type /Catalog /Pages 2 0 R >>")
        self.offsets.append(0)  # 2: the page tree, written last

    def _write(self, data: bytes) -> None:
        self.out.write(data)
        self.written += len(data)

    def _object(self, body: bytes, stream: bytes | None = None) -> int:
        self.offsets.append(self.written)
        number = len(self.offsets)
        self._write(b"%d 0 obj\n" % number + body)
        if stream is not None:
            self._write(b"\nstream\n" + stream + b"\nendstream")
        self._write(b"\nendobj\n")
        return number

    def page(self, scan: ScanImage) -> None:
        height, width = scan.pixels.shape[:2]
        dpi = scan.truth.scan.dpi
        data, params = _pdf_image(scan)
        image = self._object(
            b"<< /Type /XObject /Subtype /Image /Width %d /Height %d %s /Length %d >>"
            % (width, height, params, len(data)),
            data,
        )
        w_pt, h_pt = width * 72 / dpi, height * 72 / dpi
        content = b"q %.4f 0 0 %.4f 0 0 cm /Im0 Do Q" % (w_pt, h_pt)
        drawing = self._object(b"<< /Length %d >>" % len(content), content)
        self.kids.append(
            self._object(
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.4f %.4f] "
                b"/Resources << /XObject << /Im0 %d 0 R >> >> /Contents %d 0 R >>"
                % (w_pt, h_pt, image, drawing)
            )
        )

    def close(self) -> None:
        kids = b" ".join(b"%d 0 R" % k for k in self.kids)
        self.offsets[1] = self.written
        self._write(
            b"2 0 obj\n<< /Type /Pages /Kids [%s] /Count %d >>\nendobj\n" % (kids, len(self.kids))
        )
        start = self.written
        rows = b"".join(b"%010d 00000 n \n" % offset for offset in self.offsets)
        self._write(b"xref\n0 %d\n0000000000 65535 f \n%s" % (len(self.offsets) + 1, rows))
        self._write(
            b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(self.offsets) + 1, self.catalog, start)
        )


def _pdf_image(scan: ScanImage) -> tuple[bytes, bytes]:
    """The image stream and its dictionary's colour entries."""
    pixels = scan.pixels
    colour = b"/DeviceRGB" if pixels.ndim == 3 else b"/DeviceGray"
    if scan.jpeg is not None:
        return scan.jpeg, b"/ColorSpace %s /BitsPerComponent 8 /Filter /DCTDecode" % colour
    if scan.truth.scan.mode == "bw":
        packed = np.packbits(pixels > 127, axis=1)  # 1 = white in DeviceGray
        return zlib.compress(
            packed.tobytes(), 6
        ), b"/ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /FlateDecode"
    raw = pixels if pixels.ndim == 2 else cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)
    return zlib.compress(np.ascontiguousarray(raw).tobytes(), ZLIB_LEVEL), (
        b"/ColorSpace %s /BitsPerComponent 8 /Filter /FlateDecode" % colour
    )


def write_pdf(scans: Iterable[ScanImage], target: Path | BinaryIO) -> int:
    """A multi-page PDF of the scans, in order; returns the pages written."""
    if isinstance(target, Path):
        with target.open("wb") as out:
            return write_pdf(scans, out)
    writer = _PdfWriter(target)
    for scan in scans:
        writer.page(scan)
    writer.close()
    return len(writer.kids)


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
