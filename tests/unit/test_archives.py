"""Zips from outside are checked entry by entry before anything is unpacked (issue 9, item 8)."""

from __future__ import annotations

import io
import os
import struct
import zipfile
from pathlib import Path

import openpyxl
import pytest

from marking.demo import synthetic
from marking.domain import archives
from marking.domain.archives import ZipLimits, open_zip, unpack
from marking.domain.tabular import read_rows
from marking.errors import InputError

MIB = 1 << 20
TINY = ZipLimits(entries=20, expanded=2 * MIB, ratio=100, small=64 * 1024)


def make_zip(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def refused(data: bytes, limits: ZipLimits = TINY) -> str:
    with pytest.raises(InputError) as caught:
        open_zip(io.BytesIO(data), name="batch.zip", limits=limits).close()
    return caught.value.reason


def test_a_zip_bomb_is_refused_from_its_directory() -> None:
    bomb = make_zip({"images/a.png": b"\0" * (8 * MIB)})
    assert len(bomb) < 64 * 1024
    assert "more than 100 times its packed size" in refused(bomb, archives.BATCH)


def test_the_total_unpacked_size_is_capped() -> None:
    parts = {f"images/{i}.jpg": os.urandom(MIB) for i in range(3)}  # incompressible, 3 MB
    assert "unpacks to more than 2 MB" in refused(make_zip(parts, zipfile.ZIP_STORED))


def test_the_number_of_entries_is_capped_before_the_directory_is_read() -> None:
    many = make_zip({f"images/{i}.png": b"x" for i in range(21)})
    assert "more than 20 entries" in refused(many)
    # An end record that understates the count does not help: the directory is counted.
    at = many.rindex(b"PK\x05\x06")
    lying = many[: at + 8] + struct.pack("<HH", 1, 1) + many[at + 12 :]
    assert "more than 20 entries" in refused(lying)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        (b"../evil.csv", "unsafe path"),
        (b"a/../../evil.csv", "unsafe path"),
        (b"/etc/evil.csv", "unsafe path"),
        (b"C:/evil.csv", "unsafe path"),
        (b"a\\evil.csv", "unsafe path"),
        (b"a\x00evil.csv", "control character"),
        (b"a\nevil.csv", "control character"),
        (b"a/" + b"x" * 300, "too long"),
    ],
)
def test_unsafe_names_are_refused(name: bytes, why: str) -> None:
    placeholder = b"Q" * len(name)
    data = make_zip({placeholder.decode(): b"x"})
    assert why in refused(data.replace(placeholder, name))


def test_an_entry_twice_an_encrypted_entry_and_a_damaged_one_are_refused(tmp_path: Path) -> None:
    twice = make_zip({"a.csv": b"1", "b.csv": b"2"}).replace(b"b.csv", b"a.csv")
    assert "twice" in refused(twice)
    encrypted = bytearray(make_zip({"a.csv": b"1"}))
    for at in (0, encrypted.rindex(b"PK\x01\x02")):  # local header and directory: flag bit 0
        offset = 6 if at == 0 else 8
        encrypted[at + offset] |= 1
    assert "encrypted" in refused(bytes(encrypted))
    damaged = make_zip({"responses.csv": "考生作答 ".encode() * 5000})
    at = damaged.index(b"responses.csv") + 100
    damaged = damaged[:at] + bytes([damaged[at] ^ 0xFF]) + damaged[at + 1 :]
    with (
        open_zip(io.BytesIO(damaged), name="batch.zip", limits=TINY) as archive,
        pytest.raises(InputError, match="cannot be unpacked: the zip is damaged"),
    ):
        unpack(archive, tmp_path, name="batch.zip", limits=TINY)
    for junk in (b"", b"plain text", make_zip({"a": b"1"})[:-10]):
        assert "not a zip file" in refused(junk)


def test_a_real_batch_passes_and_unpacks(tmp_path: Path) -> None:
    """What intake really gets: the tables, and scanned answers that pack about 1:1."""
    folder = tmp_path / "batch"
    roster = synthetic.roster(200, seed=3)
    synthetic.write_batch(folder, roster, synthetic.paper(30), seed=3, image_rate=0.05)
    entries = {p.relative_to(tmp_path).as_posix(): p.read_bytes() for p in folder.rglob("*.*")}
    entries |= {f"batch/scans/{i}.jpg": os.urandom(200 * 1024) for i in range(20)}
    with open_zip(
        io.BytesIO(make_zip(entries)), name="batch.zip", limits=archives.BATCH
    ) as archive:
        unpack(archive, tmp_path / "out", name="batch.zip", limits=archives.BATCH)
    assert (tmp_path / "out" / "batch" / "responses.csv").read_bytes() == (
        folder / "responses.csv"
    ).read_bytes()


def test_a_workbook_that_is_a_zip_bomb_is_refused_before_openpyxl_reads_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "candidates.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["exam_no", "name", "id_number", "institution"])
    book.active.append(["261200000001", "张三", "440103199001011234", "某校"])
    book.save(path)
    columns = ("exam_no", "name", "id_number", "institution")
    assert [r[:2] for _n, r in read_rows(path, columns)] == [("261200000001", "张三")]
    with (
        zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf,
        zf.open("xl/media/pad.bin", "w") as pad,
    ):
        for _ in range(16):
            pad.write(b"\0" * MIB)
    with pytest.raises(InputError, match="times its packed size"):
        list(read_rows(path, columns))
