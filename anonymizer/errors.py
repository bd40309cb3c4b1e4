"""Anonymizer exceptions: each says what went wrong with which file and what to do about it."""

from __future__ import annotations


class AnonymizerError(Exception):
    """Base of every error the anonymizer raises on purpose."""


class WeakPassphrase(AnonymizerError, ValueError):
    """A key file passphrase too easy to guess to protect a session's identities.

    ``score`` is the strength estimator's (zxcvbn, 0..4), ``warning`` and ``suggestions``
    its feedback in English, for a screen to translate.
    """

    def __init__(
        self, message: str, *, score: int = 0, warning: str = "", suggestions: tuple[str, ...] = ()
    ) -> None:
        self.score = score
        self.warning = warning
        self.suggestions = suggestions
        super().__init__(message)


class InvalidSharing(AnonymizerError, ValueError):
    """A custodians/threshold combination that is not a k-of-n sharing."""


class OutputExists(AnonymizerError, FileExistsError):
    """A key or share file would overwrite an existing file; key material is never replaced."""


class BadKeyFile(AnonymizerError):
    """A key file that cannot be read or is not a blindmark session key file; ``path``
    names it as it was given, for a screen to word the refusal itself."""

    def __init__(self, message: str, *, path: str = "") -> None:
        self.path = path
        super().__init__(message)


class WrongPassphrase(AnonymizerError):
    """The passphrase does not open the key file."""


class NotEnoughShares(AnonymizerError):
    """Fewer distinct shares than the threshold written into them."""

    def __init__(self, given: int, needed: int | None) -> None:
        self.given = given
        self.needed = needed
        if needed is None:  # with no share at all there is no threshold to read
            message = "no share given; each share file says how many rebuild the key"
        else:
            noun = "share" if given == 1 else "shares"
            message = (
                f"{given} distinct {noun} given, {needed} needed to rebuild the session key; "
                f"ask {needed - given} more custodian(s) for their share file"
            )
        super().__init__(message)


class BadShare(AnonymizerError):
    """A share that is damaged, not a share, or from another key set."""


class KeyMismatch(AnonymizerError):
    """A key file or set of shares that rebuilds a key, but not this session's key."""


class TamperedCiphertext(AnonymizerError):
    """Sealed data that does not decrypt: altered bytes, or moved to another row."""
