"""Where scanned pages come from: PDF bundles and image files, turned into grey pixels a page
at a time.

A scanner hands over a PDF of many sheets, or one image file a page (PNG, JPEG, TIFF, a TIFF
often holding many pages), or a folder of either. Whatever the container, the scan step wants
the same thing: each page's grey pixels, where it came from (file and page number, so that a
quarantined page can be found again on paper) and its resolution when known (it tells
``reading.read_page`` how large the corner marks are). Pages are yielded one by one and never
held together: a bundle of a thousand sheets at 300 dpi would not fit in memory at once.

The kind of a file is taken from its first bytes, not its name; a file that cannot be read
whole raises ``InputError`` naming it and the reason, never a partial silent read. PDFs are
rendered by pypdfium2 (PDFium, the PDF engine of Chrome), images decoded by Pillow (already
installed with WeasyPrint), both well-kept libraries.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pypdfium2 as pdfium
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from marking.errors import InputError

Grey = npt.NDArray[np.uint8]

SUFFIXES = (".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff")
IMAGE_FORMATS = ("PNG", "JPEG", "TIFF")
POINTS_PER_INCH = 72.0
MM_PER_INCH = 25.4
# A resolution a file states is believed only when it is one a scanner uses and puts the page
# at about paper size: JPEG and PNG writers often state 72 or 96 dpi whatever the pixels are,
# and a wrong hint would make the corner marks look the wrong size. Unbelieved, it is None
# and the page's scale is taken from its QR code instead.
MIN_DPI, MAX_DPI = 100.0, 1200.0
SHORT_SIDE_MM = (140.0, 330.0)  # A5 to A3's short sides, with a scan bed's margins
A4_SHORT_MM = 210.0
# The most pixels a page may have: A3 at 600 dpi (7016 x 9921), the largest page the scan
# path reads at its finest resolution. Checked from the page's stated size before a pixel is
# decoded or rendered: a PDF of 550 bytes or a PNG of 46 KB can ask for gigabytes (Pillow
# only warns below 179 million pixels), which would take a worker down, not fail the file.
MAX_PIXELS = 75_000_000
_SUPPORTED = "scans are read from PDF, PNG, JPEG and TIFF files"


@dataclass(frozen=True, eq=False)
class ScanPage:
    """One scanned page: ``source`` the file as given, ``number`` its page in that file (from
    1), ``image`` its grey pixels, ``dpi`` the resolution when known."""

    source: str
    number: int
    image: Grey
    dpi: float | None


def scan_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files named, folders replaced by the files under them (recursively, sorted by path,
    hidden files left out).

    Raises InputError for a path that does not exist, or a file in a folder that is not a
    scan by its name: refusing it is safer than skipping it, since a sheet left out would make
    its candidate absent.
    """
    files: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            for file in found:
                if file.suffix.lower() not in SUFFIXES:
                    raise InputError(str(file), f"not a scan by its name: {_SUPPORTED}")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise InputError(str(path), "no such file or folder")
    return files


def scan_pages(paths: Iterable[str | Path], *, dpi: float = 200) -> Iterator[ScanPage]:
    """Every page of every file under ``paths`` (see ``scan_files``), in order, PDF pages
    rendered grey at ``dpi``. Raises InputError on the first file that cannot be read."""
    for file in scan_files(paths):
        yield from file_pages(file, dpi=dpi)


def file_pages(
    path: str | Path, *, dpi: float = 200, start: int = 1, data: bytes | None = None
) -> Iterator[ScanPage]:
    """The pages of one file from page ``start`` on (a run that stopped resumes there without
    rendering the pages before it). ``data`` is the file's content when it is held in memory
    rather than at ``path``, which then only names it. Raises InputError when the file cannot
    be read, is of no kind scans come in, or is damaged."""
    name = str(path)
    # a file on disk is opened by path, so that pdfium and Pillow read what each page needs
    # and a bundle of hundreds of megabytes is never held in memory whole
    source: bytes | str = data if data is not None else name
    head = data[:1024] if data is not None else _head(name)
    if _is_pdf(head):
        yield from _pdf_pages(name, source, dpi=dpi, start=start)
    else:
        yield from _image_pages(name, source, start=start)


def count_pages(path: str | Path, *, data: bytes | None = None) -> int:
    """How many pages the file holds (PDF pages, TIFF pages; 1 for another image), read from
    its structure without decoding pixels. Raises InputError as ``file_pages`` does."""
    name = str(path)
    source: bytes | str = data if data is not None else name
    head = data[:1024] if data is not None else _head(name)
    if _is_pdf(head):
        document = _pdf(name, source)
        try:
            return len(document)
        finally:
            document.close()
    with _image(name, source) as image:
        return int(getattr(image, "n_frames", 1))


def _head(name: str) -> bytes:
    """The file's first kilobyte (what tells a PDF from an image)."""
    try:
        with open(name, "rb") as file:
            return file.read(1024)
    except OSError as exc:
        raise InputError(name, f"cannot be read: {exc.strerror or exc}") from None


def _is_pdf(data: bytes) -> bool:
    # PDF readers accept the header anywhere in the first kilobyte (ISO 32000 §7.5.2 notes)
    return b"%PDF-" in data[:1024]


def _pdf(name: str, source: bytes | str) -> pdfium.PdfDocument:
    try:
        document = pdfium.PdfDocument(source)
    except pdfium.PdfiumError as exc:
        raise InputError(name, f"not a readable PDF ({exc})") from None
    if len(document) == 0:
        document.close()
        raise InputError(name, "a PDF without pages")
    return document


def _pdf_pages(name: str, source: bytes | str, *, dpi: float, start: int) -> Iterator[ScanPage]:
    document = _pdf(name, source)
    try:
        for index in range(max(start, 1) - 1, len(document)):
            page = document[index]
            try:
                width, height = page.get_size()  # points
                short_mm = min(width, height) / POINTS_PER_INCH * MM_PER_INCH
                scale, known = dpi / POINTS_PER_INCH, _plausible_page(short_mm)
                if not known:  # a page of no paper size: its points say nothing of its dpi
                    scale *= A4_SHORT_MM / short_mm
                _refuse_huge(name, index + 1, width * scale, height * scale)
                bitmap = page.render(scale=scale, grayscale=True)
                try:
                    pixels = np.array(bitmap.to_numpy(), dtype=np.uint8)
                finally:
                    bitmap.close()
            except pdfium.PdfiumError as exc:
                raise InputError(name, f"page {index + 1} cannot be rendered ({exc})") from None
            finally:
                page.close()
            yield ScanPage(name, index + 1, _two_dimensional(pixels), dpi if known else None)
    finally:
        document.close()


def _refuse_huge(name: str, number: int, width: float, height: float) -> None:
    if width * height > MAX_PIXELS:
        raise InputError(
            name,
            f"page {number} would be {round(width)} x {round(height)} pixels, "
            f"more than any scan ({MAX_PIXELS} pixels: A3 at 600 dpi)",
        )


def _two_dimensional(pixels: npt.NDArray[np.uint8]) -> Grey:
    return np.ascontiguousarray(pixels[:, :, 0] if pixels.ndim == 3 else pixels)


def _image(name: str, source: bytes | str) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
    except UnidentifiedImageError:
        raise InputError(name, f"not a PDF or an image: {_SUPPORTED}") from None
    except (OSError, Image.DecompressionBombError) as exc:
        raise InputError(name, f"cannot be read as an image ({exc})") from None
    if image.format not in IMAGE_FORMATS:
        image.close()
        raise InputError(name, f"a {image.format} image: {_SUPPORTED}")
    return image


def _image_pages(name: str, source: bytes | str, *, start: int) -> Iterator[ScanPage]:
    with _image(name, source) as image:
        for index in range(max(start, 1) - 1, int(getattr(image, "n_frames", 1))):
            try:
                with _whole_images_only():
                    image.seek(index)
                    _refuse_huge(name, index + 1, *image.size)
                    pixels = _grey(image)
            except (OSError, ValueError, EOFError, Image.DecompressionBombError) as exc:
                raise InputError(name, f"page {index + 1} is damaged ({exc})") from None
            yield ScanPage(name, index + 1, pixels, _stated_dpi(image, pixels.shape))


@contextmanager
def _whole_images_only() -> Iterator[None]:
    """Pillow refuses a file cut short while decoding in here. WeasyPrint, imported by the
    same process for the reports, turns Pillow's LOAD_TRUNCATED_IMAGES on for everyone, and
    a scan cut short would then be read with its missing part grey, its bubbles empty."""
    before = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = before


def _grey(image: Image.Image) -> Grey:
    """The frame's pixels as 8-bit grey: colour weighed to luma, transparency laid on white,
    16-bit grey scaled down, a photo's EXIF turn undone."""
    frame = ImageOps.exif_transpose(image)
    if frame.mode.startswith("I"):  # 16- or 32-bit grey
        wide = np.asarray(frame).astype(np.uint32)
        return np.ascontiguousarray((wide >> 8 if wide.max() > 255 else wide).astype(np.uint8))
    if "A" in frame.mode or "transparency" in frame.info:
        white = Image.new("RGBA", frame.size, "white")
        frame = Image.alpha_composite(white, frame.convert("RGBA"))
    return np.array(frame.convert("L"), dtype=np.uint8)


def _stated_dpi(image: Image.Image, shape: tuple[int, ...]) -> float | None:
    stated = image.info.get("dpi")
    if not isinstance(stated, tuple) or len(stated) != 2:
        return None
    x, y = float(stated[0]), float(stated[1])
    if not (MIN_DPI <= x <= MAX_DPI) or abs(x - y) > 0.01 * x:
        return None
    return x if _plausible_page(min(shape[:2]) / x * MM_PER_INCH) else None


def _plausible_page(short_mm: float) -> bool:
    return SHORT_SIDE_MM[0] <= short_mm <= SHORT_SIDE_MM[1]
