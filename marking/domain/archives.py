"""Zip files from outside (intake batches, .xlsx workbooks), checked entry by entry before
anything is unpacked: how many entries, how large unpacked, how much larger than packed,
and names that stay inside the folder they are unpacked into.

The limits come from measured batches (figures in README "Web application"): a scanned
answer box is 10-700 KB as PNG or JPEG and packs at about 1:1; CSV tables pack at up
to about 1:16, workbooks at up to about 1:14. So an entry may unpack to at most
``ratio`` times its packed size (small entries excepted: their size cannot hurt), and the
whole archive to at most ``expanded`` bytes, which stops a zip bomb (1.9 MB that unpacks
to 1.9 GB) before a byte is written. ``zipfile`` itself stops reading an entry at the size
its directory declares, so the declared sizes checked here bound what is read.
"""

from __future__ import annotations

import lzma
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from marking.errors import InputError

__all__ = ["BATCH", "WORKBOOK", "ZipLimits", "check_zip", "open_zip", "unpack"]

MIB = 1 << 20


@dataclass(frozen=True)
class ZipLimits:
    entries: int  # files and folders
    expanded: int  # bytes, all entries unpacked
    ratio: int  # unpacked / packed, per entry larger than ``small``
    small: int = MIB


#: An intake batch: candidates.csv, responses.csv and the answer images of a session.
BATCH = ZipLimits(entries=60_000, expanded=1024 * MIB, ratio=100)
#: An .xlsx workbook: a dozen parts, the first sheet at most 1,048,576 rows.
WORKBOOK = ZipLimits(entries=1_000, expanded=512 * MIB, ratio=100)

_EOCD = b"PK\x05\x06"
_EOCD_SIZE = 22
# Bytes of central directory allowed per entry: a record is 46 bytes plus name and extras.
_DIRECTORY_PER_ENTRY = 512
_NAME_LIMIT = 1024
_PART_LIMIT = 255
# What a damaged directory raises from zipfile, and a damaged entry from zipfile, zlib,
# bz2 (OSError) or lzma while it is read.
_BAD_DIRECTORY = (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError, struct.error)
_BAD_DATA = (*_BAD_DIRECTORY, zlib.error, lzma.LZMAError, RuntimeError, OSError)


def _directory_size(fh: IO[bytes], name: str, limits: ZipLimits) -> None:
    """Read the end record and refuse a directory too large to be read (zipfile would
    build an object per record, however many the end record claims)."""
    fh.seek(0, 2)
    size = fh.tell()
    fh.seek(max(0, size - _EOCD_SIZE - 0xFFFF))
    tail = fh.read()
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < _EOCD_SIZE:
        raise zipfile.BadZipFile("no end of central directory record")
    _sig, _disk, _cd_disk, _here, entries, cd_size, cd_offset, _comment = struct.unpack(
        "<4s4H2LH", tail[at : at + _EOCD_SIZE]
    )
    if entries == 0xFFFF or 0xFFFFFFFF in (cd_size, cd_offset):  # zip64: far beyond a batch
        raise InputError(name, f"the zip has more than {limits.entries} entries or is too large")
    if entries > limits.entries or cd_size > limits.entries * _DIRECTORY_PER_ENTRY:
        raise InputError(name, f"the zip has more than {limits.entries} entries")
    fh.seek(0)


def _safe_name(info: zipfile.ZipInfo, name: str) -> PurePosixPath:
    raw = info.orig_filename
    if any(ord(c) < 0x20 or c == "\x7f" for c in raw):
        raise InputError(name, "an entry's name holds a control character (NUL or the like)")
    shown = raw[:80]
    path = PurePosixPath(raw)
    if (
        "\\" in raw
        or path.is_absolute()
        or ".." in path.parts
        or (path.parts and ":" in path.parts[0])
        or not path.parts
    ):
        raise InputError(name, f"the zip holds an unsafe path: {shown}")
    if len(raw.encode()) > _NAME_LIMIT or any(len(p.encode()) > _PART_LIMIT for p in path.parts):
        raise InputError(name, f"an entry's name is too long: {shown}…")
    return path


def check_zip(archive: zipfile.ZipFile, *, name: str, limits: ZipLimits) -> None:
    """Refuse (InputError naming ``name``) an archive whose entries are too many, unpack
    too large or too much larger than packed, are encrypted, or have unsafe names."""
    infos = archive.infolist()
    if len(infos) > limits.entries:
        raise InputError(name, f"the zip has more than {limits.entries} entries")
    total = 0
    seen: set[PurePosixPath] = set()
    for info in infos:
        path = _safe_name(info, name)
        if path in seen:
            raise InputError(name, f"the zip holds {info.orig_filename[:80]} twice")
        seen.add(path)
        if info.flag_bits & 0x1:
            raise InputError(name, f"{info.orig_filename[:80]} is encrypted; zip it without one")
        if info.file_size > limits.small and info.file_size > limits.ratio * info.compress_size:
            raise InputError(
                name,
                f"{info.orig_filename[:80]} unpacks to more than {limits.ratio} times its "
                "packed size: not a batch of tables and scans (a zip bomb?)",
            )
        total += info.file_size
        if total > limits.expanded:
            raise InputError(
                name, f"the zip unpacks to more than {limits.expanded // MIB} MB; split it"
            )


def open_zip(
    source: IO[bytes] | Path,
    *,
    name: str,
    limits: ZipLimits,
    unreadable: str = "not a zip file, or a damaged one",
) -> zipfile.ZipFile:
    """The archive, opened and checked (``check_zip``); InputError if it is not a readable
    zip (saying ``unreadable``) or breaks a limit. The caller closes it."""
    try:
        if isinstance(source, Path):
            with source.open("rb") as fh:
                _directory_size(fh, name, limits)
        else:
            _directory_size(source, name, limits)
        archive = zipfile.ZipFile(source)
    except OSError as exc:
        raise InputError(name, f"cannot read the file: {exc.strerror or exc}") from exc
    except _BAD_DIRECTORY as exc:
        raise InputError(name, unreadable) from exc
    try:
        check_zip(archive, name=name, limits=limits)
    except InputError:
        archive.close()
        raise
    return archive


def unpack(archive: zipfile.ZipFile, dest: Path, *, name: str, limits: ZipLimits) -> None:
    """Unpack a checked archive into ``dest``, counting what is written: an entry whose
    data is damaged (bad CRC, truncated, an unknown method) is refused as InputError."""
    written = 0
    for info in archive.infolist():
        shown = info.orig_filename[:80]
        target = dest.joinpath(*_safe_name(info, name).parts)
        try:
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            out = target.open("xb")
        except (FileExistsError, NotADirectoryError):
            raise InputError(name, f"{shown} clashes with another entry of the zip") from None
        with out:
            for chunk in _chunks(archive, info, name):
                written += len(chunk)
                if written > limits.expanded:
                    raise InputError(
                        name, f"the zip unpacks to more than {limits.expanded // MIB} MB; split it"
                    )
                out.write(chunk)


def _chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> Iterator[bytes]:
    try:
        with archive.open(info) as src:
            while chunk := src.read(MIB):
                yield chunk
    except _BAD_DATA as exc:
        raise InputError(
            name, f"{info.orig_filename[:80]} cannot be unpacked: the zip is damaged"
        ) from exc
