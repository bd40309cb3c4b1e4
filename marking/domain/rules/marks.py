"""Exact marks: the stored unit (thousandths), conversions, the one gate for marks from outside."""

from __future__ import annotations

import operator
import re
from decimal import Decimal
from typing import ClassVar

#: Stored units per mark; the same constant as ``marking.store.db.MILLI`` (a test holds them
#: equal), repeated so that the rules need nothing but numpy.
MILLI = 1000


# --- exact conversions ---------------------------------------------------------------


def milli(value: Decimal | int) -> int:
    """The integer thousandths of an exact mark; ValueError if not finite or finer than 0.001."""
    if isinstance(value, int):
        return value * MILLI
    if not isinstance(value, Decimal):
        raise TypeError(f"{value!r} is not an exact mark: give a Decimal or an int")
    if not value.is_finite():
        raise ValueError(f"{value} is not a mark")
    scaled = value.scaleb(3)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} is finer than the stored precision of 0.001")
    return int(scaled)


def from_milli(value: int) -> Decimal:
    """The exact mark for a stored integer (7500 -> Decimal("7.5"))."""
    return Decimal(operator.index(value)) / MILLI


# --- marks from outside ----------------------------------------------------------------

#: The longest mark text taken: "99999999.999". A mark is short; a longer text is refused
#: before any arithmetic, so no input can make a huge number, message or ledger entry.
MARK_TEXT_LIMIT = 12
#: How much of a refused input a message shows.
_SHOWN = 12
_PLAIN_MARK = re.compile(r"(?P<int>[0-9]*)(?:\.(?P<frac>[0-9]*))?")
#: What an IME types for a mark (full-width digits and full stop), read as the plain ones.
#: Nothing else is mapped: NFKC would also turn "⑳" into "20" and "⒈" into "1.".
_FULL_WIDTH = str.maketrans({0xFF0E: "."} | {0xFF10 + d: str(d) for d in range(10)})


class MarkRefused(ValueError):
    """A mark (or a mark-like number: max, step, tolerance, score) that is refused.

    ``reason`` is one of ``empty``, ``too_long``, ``not_decimal``, ``negative``,
    ``too_fine``, ``above_max``, ``off_step``; ``params`` fills a message in any language
    (``shown``: at most a short, printable prefix of the input; ``maximum``, ``step``,
    ``limit``).
    """

    _MESSAGES: ClassVar[dict[str, str]] = {
        "empty": "give a mark",
        "too_long": "a mark has at most {limit} characters; '{shown}…' is longer",
        "not_decimal": "a mark is a plain decimal number such as 7, 7.5 or 0.125; "
        "'{shown}' is not one",
        "negative": "a mark cannot be negative: '{shown}'",
        "too_fine": "a mark has at most three decimals (marks are kept in thousandths); "
        "'{shown}' has more",
        "above_max": "a mark lies between 0 and {maximum}; {shown} is outside",
        "off_step": "marks on this question go in steps of {step}; {shown} is not one",
    }

    def __init__(self, reason: str, shown: str, **params: str) -> None:
        self.reason = reason
        self.params = {"shown": shown, "limit": str(MARK_TEXT_LIMIT), **params}
        super().__init__(self._MESSAGES[reason].format(**self.params))


def _shown(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text[:_SHOWN])


def _mark_text(value: object) -> str:
    """The text a mark was given as; numbers as their exact plain text, when short."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise MarkRefused("not_decimal", _shown(repr(value)))
    if isinstance(value, int):
        if abs(value) >= 10**MARK_TEXT_LIMIT:  # compared, never printed: it may be huge
            raise MarkRefused("too_long", "")
        return str(value)
    if isinstance(value, float):
        # A float's shortest repr is the number the sender wrote (0.1 -> "0.1");
        # one that needs an exponent is refused as such text would be.
        return "0" if value == 0 else repr(value)
    if not value.is_finite():
        raise MarkRefused("not_decimal", _shown(str(value)))
    if value.is_zero():
        return "0"  # -0.0 is zero, not a negative mark
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    if exponent < -3:  # 1E-1000030 stops here, before any digit is written out
        raise MarkRefused("too_fine", _shown(str(value)))
    if value.adjusted() >= MARK_TEXT_LIMIT:  # 1E+999999999 likewise
        raise MarkRefused("too_long", _shown(str(value)))
    return format(value, "f")


def parse_mark(
    value: object, *, maximum: Decimal | None = None, step: Decimal | None = None
) -> Decimal:
    """A mark from outside (a form, JSON, a file, the command line), checked and exact.

    The one gate for every mark and mark-like number: plain decimal text of at most
    ``MARK_TEXT_LIMIT`` characters (surrounding spaces and full-width digits allowed),
    no sign, no exponent, NaN or infinity, at most three decimals; then within
    [0, ``maximum``] and a multiple of ``step`` when they are given. An int or a Decimal
    is taken as its exact plain text; a float as its shortest repr. Returns the canonical
    Decimal (``" 7.50 "`` -> ``Decimal("7.5")``), whose text is what the ledger records
    and whose thousandths are what is stored, so the two agree byte for byte.
    Raises MarkRefused saying why.
    """
    text = _mark_text(value).strip()
    if len(text) > MARK_TEXT_LIMIT:
        raise MarkRefused("too_long", _shown(text))
    text = text.translate(_FULL_WIDTH)  # one character each: the length still holds
    if not text:
        raise MarkRefused("empty", "")
    shown = _shown(text)
    plain = _PLAIN_MARK.fullmatch(text.removeprefix("-"))
    if plain is None or not (plain["int"] or plain["frac"]) or not text.isascii():
        raise MarkRefused("not_decimal", shown)
    if text.startswith("-"):
        raise MarkRefused("negative", shown)
    frac = plain["frac"] or ""
    if len(frac) > 3:
        raise MarkRefused("too_fine", shown)
    thousandths = int(plain["int"] or "0") * MILLI + int(frac.ljust(3, "0"))
    mark = from_milli(thousandths)
    if maximum is not None and thousandths > milli(maximum):
        raise MarkRefused("above_max", f"{mark:f}", maximum=f"{maximum:f}")
    if step is not None and thousandths % milli(step):
        raise MarkRefused("off_step", f"{mark:f}", step=f"{step:f}")
    return mark
