"""A checked batch: identities to seal, validated responses, new images; and the checks,
each problem named by file, row, field and reason."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from marking.errors import InputError, InputErrors
from marking.intake.questions import Paper, QuestionInfo
from marking.store.models import Component

MAX_ERRORS = 50
MAX_IMAGE_BYTES = 20 * 1024 * 1024

#: One validated response, in the order intake stages it: the candidate (index into the
#: batch's identities), the component (index into its components), the question's
#: position and id, the text, the image's SHA-256 or None, the key score in thousandths
#: (objective questions) or None, the marking group or None, and the marks it needs.
#: Plain tuples, not objects: a large batch has millions of them.
ResponseRow = tuple[int, int, int, int, str, str | None, int | None, int | None, int]


class ErrorList:
    """Collects problems up to a cap, then stops the scan."""

    def __init__(self) -> None:
        self.items: list[InputError] = []

    def add(self, file: str, row: int, column: str, reason: str) -> None:
        self.items.append(InputError(file, reason, row=row, column=column))
        if len(self.items) >= MAX_ERRORS:
            raise InputErrors(self.items, truncated=True)

    def raise_if_any(self) -> None:
        if self.items:
            raise InputErrors(self.items)


@dataclass(frozen=True)
class Identity:
    """A candidate as the roster names them: sealed with the batch, never stored in clear."""

    exam_no: str
    name: str
    id_number: str
    institution: str


@dataclass(frozen=True)
class NewImage:
    """An image's bytes, checked (PNG or JPEG, not too large), keyed by its SHA-256."""

    media_type: str
    content: bytes


@dataclass
class ResponseChunk:
    """Validated responses and the images first referred to among them; ``blank``: the
    images (SHA-256) that are empty answer boxes, so their responses are flagged blank."""

    rows: list[ResponseRow]
    images: dict[str, NewImage] = field(default_factory=dict)
    blank: set[str] = field(default_factory=set)


@dataclass
class ValidatedBatch:
    """What storing a batch takes, however it was read (typed files, scanned sheets).

    ``responses`` may be a generator that reads and checks as it goes, so that a batch of
    millions of responses is never held in memory at once: it raises InputErrors (after
    its last good chunk) when the input is bad, and since storing happens in the caller's
    transaction, nothing of the batch is then kept. A (candidate, component) with at
    least one response becomes a script.
    """

    name: str  # shown to the office; cut to 128 characters
    digest: str  # SHA-256 of the input as received, to refuse the same batch twice
    identities: list[Identity]
    components: list[Component]  # the session's, in order; rows refer to them by index
    responses: Iterable[ResponseChunk]
    # The components the batch answers for (a scan batch: its one component); None: all of
    # them. Publication refuses a candidate in two batches covering the same component.
    covers: list[str] | None = None
    # Which candidates (indexes into ``identities``) the batch answers for; None: all. A
    # scan batch answers only for those whose sheet it took: one on its roster without a
    # sheet stays free to be taken in by a later batch of the same component.
    covered: set[int] | None = None


def check_roster(
    file: str, rows: Iterable[tuple[int, tuple[str, ...]]], errors: ErrorList
) -> list[Identity]:
    """The roster's candidates: exam number, name and ID number present, none twice."""
    roster: list[Identity] = []
    exam_rows: dict[str, int] = {}
    id_rows: dict[str, int] = {}
    for rowno, (exam_no, name, id_number, institution) in rows:
        ok = True
        for column, value in (("exam_no", exam_no), ("name", name), ("id_number", id_number)):
            if not value:
                errors.add(file, rowno, column, "empty")
                ok = False
        if exam_no and exam_no in exam_rows:
            errors.add(
                file,
                rowno,
                "exam_no",
                f"duplicate exam number (first at row {exam_rows[exam_no]})",
            )
            ok = False
        if id_number and id_number.upper() in id_rows:
            errors.add(
                file,
                rowno,
                "id_number",
                f"the same ID number as row {id_rows[id_number.upper()]}: one candidate, two rows",
            )
            ok = False
        if ok:
            exam_rows[exam_no] = rowno
            id_rows[id_number.upper()] = rowno
            roster.append(Identity(exam_no, name, id_number.upper(), institution))
    return roster


class ResponseChecks:
    """A response row's candidate, question and uniqueness, checked against the roster and
    the paper; problems go to the error list."""

    def __init__(
        self, file: str, roster_file: str, identities: list[Identity], paper: Paper
    ) -> None:
        self.file = file
        self.roster_file = roster_file
        self.cand_index = {c.exam_no: i for i, c in enumerate(identities)}
        self.questions = paper.questions
        self.component_keys = {c.key for c in paper.components}
        self.seen = np.zeros((len(identities), paper.columns), dtype=np.bool_)

    def check(
        self, errors: ErrorList, rowno: int, exam_no: str, comp_key: str, number: str
    ) -> tuple[int, QuestionInfo] | None:
        """The row's candidate and question, or None with the problem added to ``errors``."""
        cand = self.cand_index.get(exam_no)
        if cand is None:
            reason = f"not in {self.roster_file}" if exam_no else "empty"
            errors.add(self.file, rowno, "exam_no", reason)
            return None
        info = self.questions.get((comp_key, number))
        if info is None:
            if comp_key not in self.component_keys:
                errors.add(
                    self.file, rowno, "component", f"no component {comp_key!r} in this session"
                )
            else:
                errors.add(
                    self.file, rowno, "question", f"no question {number!r} in component {comp_key}"
                )
            return None
        if self.seen[cand, info.column]:
            errors.add(
                self.file,
                rowno,
                "question",
                "a second answer to the same question by the same candidate",
            )
            return None
        self.seen[cand, info.column] = True
        return cand, info


def _media_type(head: bytes) -> str | None:
    """PNG or JPEG from the file's first bytes; None for anything else."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    return None


def check_image(content: bytes) -> tuple[NewImage | None, str | None]:
    """The image if it is a PNG or JPEG within the size limit, else why not."""
    media = _media_type(content[:8])
    if media is None:
        return None, "not a PNG or JPEG file"
    if len(content) > MAX_IMAGE_BYTES:
        return None, f"larger than {MAX_IMAGE_BYTES // (1 << 20)} MiB"
    return NewImage(media, content), None
