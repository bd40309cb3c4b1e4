"""What each page's QR code says: which session, component, layout, sheet and page it is.

The text is ``BM1|<session>|<component>|<layout>|<serial>|<page>|<check>``:

- ``BM1``: blindmark's page code, format 1 (a later format changes the number, and this
  reader refuses it by name rather than misreading it);
- the session's code and the component's key, as the definition has them;
- the first hex digits of the layout file's SHA-256 (``marking.paper.layout``), so a page
  printed before the layout changed is refused, never cut where its boxes are not;
- the sheet's serial: random (``secrets``), 10 characters of an alphabet without look-alikes
  (no 0/O, 1/I/L), about 49 bits, unrelated to any candidate or to the order of printing;
- the page number, from 1;
- a check value: the first 8 hex digits of HMAC-SHA-256 over everything before it, under
  the key given, or of plain SHA-256 when no key is given. Unkeyed it catches a code
  misread, mistyped or edited by hand; keyed (a session's secret) it also makes a page
  whose code was made up without the key fail. The record of issued serials is what
  refuses a photocopied sheet: its serial is already taken.

Every field is checked on the way in and on the way out: a code that is not one of ours,
of another format, malformed or with a wrong check raises PayloadError saying which.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from marking.errors import MarkingError

PREFIX = "BM1"
SEPARATOR = "|"
SERIAL_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
SERIAL_LENGTH = 10
CHECK_LENGTH = 8

MAX_SESSION_CODE = 64
_SESSION = re.compile(
    f"[A-Za-z0-9_.-]{{1,{MAX_SESSION_CODE}}}"
)  # the definition's rule for codes, bounded
_COMPONENT = re.compile(r"[a-z]{1,16}")
_LAYOUT = re.compile(r"[0-9a-f]{4,64}")
_SERIAL = re.compile(f"[{SERIAL_ALPHABET}]{{{SERIAL_LENGTH}}}")
_PAGE = re.compile(r"[1-9][0-9]?")
_CHECK = re.compile(f"[0-9a-f]{{{CHECK_LENGTH}}}")
_OTHER_FORMAT = re.compile(r"BM[0-9]{1,4}")
# The longest page code: the fields at their bounds and six separators; a QR code of ours
# never holds more, so a longer text is refused before any of it is read or echoed.
MAX_TEXT = 256


class PayloadError(MarkingError):
    """A page code that cannot be taken: not ours, another format, malformed or tampered."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class PagePayload:
    session: str
    component: str
    layout: str
    serial: str
    page: int


def _check(body: str, key: bytes | None) -> str:
    data = body.encode("utf-8")
    digest = (
        hashlib.sha256(data).hexdigest()
        if key is None
        else hmac.new(key, data, hashlib.sha256).hexdigest()
    )
    return digest[:CHECK_LENGTH]


def _validate(payload: PagePayload) -> None:
    fields = (
        ("session code", _SESSION, payload.session),
        ("component", _COMPONENT, payload.component),
        ("layout digest", _LAYOUT, payload.layout),
        ("serial", _SERIAL, payload.serial),
        ("page", _PAGE, str(payload.page)),
    )
    for name, pattern, value in fields:
        if not pattern.fullmatch(value):
            raise PayloadError(f"page code: malformed {name} {value!r}")


def encode_payload(payload: PagePayload, *, key: bytes | None = None) -> str:
    """The QR text of a page. Raises PayloadError when a field cannot be carried."""
    _validate(payload)
    body = SEPARATOR.join(
        (
            PREFIX,
            payload.session,
            payload.component,
            payload.layout,
            payload.serial,
            str(payload.page),
        )
    )
    return body + SEPARATOR + _check(body, key)


def decode_payload(text: str, *, key: bytes | None = None) -> PagePayload:
    """The page a QR text names, checked.

    Raises PayloadError when the text is not a blindmark page code, is of another format,
    is malformed, or its check value does not match (a misread, an edit, or the wrong key).
    """
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise PayloadError(
            f"not a blindmark page code ({len(text)} characters, at most {MAX_TEXT})"
        )
    head = text.split(SEPARATOR, 1)[0]
    if head != PREFIX:
        if _OTHER_FORMAT.fullmatch(head):
            raise PayloadError(f"page code of format {head[2:]}: this blindmark reads {PREFIX}")
        raise PayloadError("not a blindmark page code")
    parts = text.split(SEPARATOR)
    if len(parts) != 7:
        raise PayloadError(f"page code: malformed, {len(parts)} fields where 7 belong")
    _prefix, session, component, layout, serial, page, check = parts
    if not _PAGE.fullmatch(page):
        raise PayloadError(f"page code: malformed page {page!r}")
    payload = PagePayload(session, component, layout, serial, int(page))
    _validate(payload)
    if not _CHECK.fullmatch(check):
        raise PayloadError(f"page code: malformed check value {check!r}")
    body = text[: -len(check) - 1]
    if not hmac.compare_digest(check, _check(body, key)):
        raise PayloadError("page code: the check value does not match (misread or altered)")
    return payload


def new_serials(count: int, *, choice: Callable[[str], str] = secrets.choice) -> tuple[str, ...]:
    """``count`` distinct random sheet serials (``choice`` is injectable for tests)."""
    serials: dict[str, None] = {}
    for _attempt in range(2 * count + 10):  # a repeat is about 1 in 10^14 a pair
        if len(serials) == count:
            break
        serial = "".join(choice(SERIAL_ALPHABET) for _ in range(SERIAL_LENGTH))
        serials.setdefault(serial, None)
    else:
        raise RuntimeError("the random source keeps repeating serials")
    return tuple(serials)
