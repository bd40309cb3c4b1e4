"""Scanned pages from files: a multi-page PDF of scanned images, a multi-page TIFF, PNG and
JPEG files, folders of them, and files that cannot be read (named, with the reason)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from marking.errors import InputError
from marking.paper.sources import count_pages, file_pages, scan_files, scan_pages

A4_AT_100 = (827, 1169)  # width, height in pixels


def page_image(shade: int, size: tuple[int, int] = A4_AT_100) -> Image.Image:
    """A grey page whose first pixel row says which page it is."""
    pixels = np.full((size[1], size[0]), 255, np.uint8)
    pixels[0, :] = shade
    return Image.fromarray(pixels)


def shades(pages: list[np.ndarray]) -> list[int]:
    return [int(p[0, p.shape[1] // 2]) for p in pages]


def test_a_pdf_of_scanned_images_is_rendered_a_page_at_a_time(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.pdf"
    first, *rest = [page_image(s) for s in (10, 20, 30)]
    first.save(bundle, save_all=True, append_images=rest, resolution=100.0)
    assert count_pages(bundle) == 3
    pages = list(scan_pages([bundle], dpi=150))
    assert [(p.source, p.number, p.dpi) for p in pages] == [
        (str(bundle), n, 150) for n in (1, 2, 3)
    ]
    assert all(p.image.dtype == np.uint8 and p.image.ndim == 2 for p in pages)
    height, width = pages[0].image.shape
    assert abs(height - 1169 * 1.5) <= 1 and abs(width - 827 * 1.5) <= 1
    # Pillow stores the images as JPEG in the PDF, and they are resampled: near, in order
    assert np.allclose(shades([p.image for p in pages]), [10, 20, 30], atol=4)
    resumed = list(file_pages(bundle, start=3, data=bundle.read_bytes()))
    assert [p.number for p in resumed] == [3]


def test_a_multipage_tiff_and_its_stated_resolution(tmp_path: Path) -> None:
    tiff = tmp_path / "scan.tif"
    first, *rest = [page_image(s).convert("1") for s in (0, 255)]
    first.save(tiff, save_all=True, append_images=rest, dpi=(100, 100), compression="group4")
    assert count_pages(tiff) == 2
    pages = list(scan_pages([tiff]))
    assert [(p.number, p.dpi) for p in pages] == [(1, 100.0), (2, 100.0)]
    assert shades([p.image for p in pages]) == [0, 255]


def test_an_implausible_stated_resolution_is_not_believed(tmp_path: Path) -> None:
    png, jpeg = tmp_path / "a.png", tmp_path / "b.jpg"
    page_image(40).save(png, dpi=(72, 72))  # 292 mm wide at 72 dpi: no paper size
    page_image(40).convert("RGB").save(jpeg, dpi=(300, 300), quality=90)  # 70 mm wide
    assert [p.dpi for p in scan_pages([png, jpeg])] == [None, None]


def test_a_folder_is_read_recursively_in_order(tmp_path: Path) -> None:
    (tmp_path / "room 2").mkdir()
    page_image(30).save(tmp_path / "room 2" / "001.png")
    page_image(10).save(tmp_path / "a.png")
    page_image(20).convert("RGB").save(tmp_path / "b.jpeg")
    (tmp_path / ".DS_Store").write_bytes(b"\0\1junk")
    assert [p.relative_to(tmp_path).as_posix() for p in scan_files([tmp_path])] == [
        "a.png",
        "b.jpeg",
        "room 2/001.png",
    ]
    # JPEG blurs the one-pixel row a little
    assert np.allclose(shades([p.image for p in scan_pages([tmp_path])]), [10, 20, 30], atol=4)


def test_a_file_in_a_folder_that_is_no_scan_is_refused(tmp_path: Path) -> None:
    page_image(10).save(tmp_path / "a.png")
    (tmp_path / "notes.txt").write_text("room 2")
    with pytest.raises(InputError, match=r"notes\.txt: not a scan"):
        scan_files([tmp_path])


def test_unreadable_files_are_named_with_the_reason(tmp_path: Path) -> None:
    fake = tmp_path / "fake.pdf"
    fake.write_bytes(b"%PDF-1.7\nthis is not a PDF")
    with pytest.raises(InputError, match=r"fake\.pdf: not a readable PDF"):
        list(scan_pages([fake]))
    text = tmp_path / "scan.png"
    text.write_text("hello")
    with pytest.raises(InputError, match=r"scan\.png: not a PDF or an image"):
        count_pages(text)
    gif = io.BytesIO()
    page_image(0).save(gif, format="GIF")
    with pytest.raises(InputError, match="a GIF image"):
        list(file_pages("x.gif", data=gif.getvalue()))
    cut = io.BytesIO()
    page_image(0).save(cut, format="PNG")
    with pytest.raises(InputError, match=r"short\.png: page 1 is damaged"):
        list(file_pages("short.png", data=cut.getvalue()[:200]))
    # even where WeasyPrint has told Pillow to load truncated images, as it does
    before, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, True
    try:
        with pytest.raises(InputError, match="damaged"):
            list(file_pages("short.png", data=cut.getvalue()[:200]))
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = before
    with pytest.raises(InputError, match="no such file"):
        scan_files([tmp_path / "missing.pdf"])
