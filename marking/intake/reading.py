"""Reading a batch folder: the roster and the responses (CSV, XLSX or zip) and their images,
checked row by row as they stream."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

from marking.domain.tabular import find_table, read_rows
from marking.intake.questions import Paper
from marking.intake.validated import (
    ErrorList,
    Identity,
    NewImage,
    ResponseChecks,
    ResponseChunk,
    ResponseRow,
    check_image,
    check_roster,
)
from marking.store.db import to_milli

CANDIDATE_COLUMNS = ("exam_no", "name", "id_number", "institution")
RESPONSE_COLUMNS = ("exam_no", "component", "question", "response")
RESPONSE_OPTIONAL = ("image",)


def batch_files(folder: Path) -> tuple[Path, Path]:
    """The batch's candidates and responses tables (InputErrors if either is missing)."""
    cand_path = find_table(folder, "candidates")
    resp_path = find_table(folder, "responses")
    assert cand_path is not None and resp_path is not None
    return cand_path, resp_path


def batch_digest(*paths: Path) -> str:
    """SHA-256 over the batch's files as received, to refuse the same batch twice."""
    h = hashlib.sha256()
    for path in paths:
        h.update(path.name.encode() + b"\0")
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
        h.update(b"\0")
    return h.hexdigest()


def read_roster(path: Path, errors: ErrorList) -> list[Identity]:
    """The candidates of ``candidates.csv``, checked; problems go to ``errors``."""
    return check_roster(path.name, read_rows(path, CANDIDATE_COLUMNS), errors)


def read_responses(
    folder: Path,
    resp_path: Path,
    roster_file: str,
    identities: list[Identity],
    paper: Paper,
    errors: ErrorList,
    *,
    chunk: int,
) -> Iterator[ResponseChunk]:
    """The responses file's rows, checked and scored from the key, in chunks of ``chunk``.

    Every row is checked, but once one is bad no more chunks come; InputErrors is raised
    at the end (or at the error cap), naming each problem.
    """
    checks = ResponseChecks(resp_path.name, roster_file, identities, paper)
    rows: list[ResponseRow] = []
    images: dict[str, NewImage] = {}
    seen_images: set[str] = set()
    rfile = resp_path.name
    for rowno, (exam_no, comp_key, number, response, image_rel) in read_rows(
        resp_path, RESPONSE_COLUMNS, optional=RESPONSE_OPTIONAL
    ):
        found = checks.check(errors, rowno, exam_no, comp_key, number)
        if found is None:
            continue
        cand, info = found
        sha: str | None = None
        if image_rel:
            image, why = _read_image(folder, image_rel)
            if image is None:
                errors.add(rfile, rowno, "image", why or "bad image")
                continue
            sha = hashlib.sha256(image.content).hexdigest()
            if sha not in seen_images:
                seen_images.add(sha)
                images[sha] = image
        score: int | None = None
        if info.scorer is not None:
            score = to_milli(info.scorer(response))
        if not errors.items:
            rows.append(
                (
                    cand,
                    info.component_index,
                    info.position,
                    info.question_id,
                    response,
                    sha,
                    score,
                    info.group_id,
                    info.marks_needed,
                )
            )
            if len(rows) >= chunk:
                yield ResponseChunk(rows, images)
                rows, images = [], {}
    errors.raise_if_any()
    yield ResponseChunk(rows, images)


def _read_image(folder: Path, relative: str) -> tuple[NewImage | None, str | None]:
    """The image a response names, read and checked, or why not."""
    path, why = _image(folder, relative)
    if path is None:
        return None, why
    return check_image(path.read_bytes())


def _image(folder: Path, relative: str) -> tuple[Path | None, str | None]:
    """Resolve an image path inside the batch folder, or say why not.

    Paths typed on Windows (``images\\a.png``) are accepted: a backslash is never part of
    a file name an office would give.
    """
    candidate = (folder / relative.replace("\\", "/")).resolve()
    if not candidate.is_relative_to(folder):
        return None, "image path leads outside the batch folder"
    if not candidate.is_file():
        return None, "image file not found in the batch folder"
    return candidate, None
