"""The answer-key forms: what "B", "ACD", "对" or a fill-in text mean, in keys and responses."""

from __future__ import annotations

import unicodedata

# After NFKC (full-width ， ； become , ;, the ideographic space a space); 、 has no
# compatibility form and is listed itself.
_CHOICE_SEPARATORS = str.maketrans("", "", " \t\r\n,;、")

_TRUE_FALSE = {
    **dict.fromkeys(("t", "true", "对", "正确", "√", "✓", "✔"), "T"),
    **dict.fromkeys(("f", "false", "错", "错误", "×", "✗", "✘"), "F"),
}


def normalise_single_choice(text: str) -> str | None:
    """One choice letter, upper case (``" ｂ "`` -> ``"B"``), or None if it is not one."""
    letter = unicodedata.normalize("NFKC", text).strip().upper()
    if len(letter) == 1 and "A" <= letter <= "Z":
        return letter
    return None


def multiple_choice_letters(text: str) -> str | None:
    """The letters of a multiple-choice answer as written, upper case, separators dropped.

    ``"a, c、D"`` -> ``"ACD"``; repeats are kept (the caller decides what they mean);
    None when anything but letters A-Z and separators is left, or nothing is.
    """
    letters = unicodedata.normalize("NFKC", text).upper().translate(_CHOICE_SEPARATORS)
    if letters and letters.isascii() and letters.isalpha():
        return letters
    return None


def normalise_true_false(text: str) -> str | None:
    """``"T"`` or ``"F"`` for any accepted spelling (T/F, 对/错, √/×, true/false, ...)."""
    return _TRUE_FALSE.get(unicodedata.normalize("NFKC", text).strip().casefold())


def normalise_fill_blank(text: str) -> str:
    """Fill-in text as compared: NFKC (full-width to half-width), surrounding spaces off."""
    return unicodedata.normalize("NFKC", text).strip()
