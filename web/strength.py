"""The passphrase strength estimator's (zxcvbn's) advice, marked for translation: zxcvbn
speaks English only, so each of its messages is listed here for the catalog."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext

_: Callable[..., str] = gettext


def N_(message: str) -> str:  # gettext's name for "mark, translate later"
    return message


# Every warning and suggestion of zxcvbn/feedback.py (tests/web/test_security.py checks
# that the installed zxcvbn says nothing else).
FEEDBACK = frozenset(
    {
        N_("Use a few words, avoid common phrases."),
        N_("No need for symbols, digits, or uppercase letters."),
        N_("Add another word or two. Uncommon words are better."),
        N_("Straight rows of keys are easy to guess."),
        N_("Short keyboard patterns are easy to guess."),
        N_("Use a longer keyboard pattern with more turns."),
        N_('Repeats like "aaa" are easy to guess.'),
        N_('Repeats like "abcabcabc" are only slightly harder to guess than "abc".'),
        N_("Avoid repeated words and characters."),
        N_('Sequences like "abc" or "6543" are easy to guess.'),
        N_("Avoid sequences."),
        N_("Recent years are easy to guess."),
        N_("Avoid recent years."),
        N_("Avoid years that are associated with you."),
        N_("Dates are often easy to guess."),
        N_("Avoid dates and years that are associated with you."),
        N_("This is a top-10 common password."),
        N_("This is a top-100 common password."),
        N_("This is a very common password."),
        N_("This is similar to a commonly used password."),
        N_("A word by itself is easy to guess."),
        N_("Names and surnames by themselves are easy to guess."),
        N_("Common names and surnames are easy to guess."),
        N_("Capitalization doesn't help very much."),
        N_("All-uppercase is almost as easy to guess as all-lowercase."),
        N_("Reversed words aren't much harder to guess."),
        N_("Predictable substitutions like '@' instead of 'a' don't help very much."),
    }
)


def refusal(score: int, needed: int, warning: str, suggestions: tuple[str, ...]) -> str:
    """Why a passphrase was refused, in the reader's language: the estimator's own advice
    where the catalog has it, else a general hint."""
    head = _(
        "The passphrase is too easy to guess (strength %(s)d of 4, at least %(n)d needed).",
        s=score,
        n=needed,
    )
    advice = [_(m) for m in (warning, *suggestions) if m in FEEDBACK]
    if not advice:
        advice = [_("Use a longer phrase of several uncommon words.")]
    return " ".join([head, *advice])
