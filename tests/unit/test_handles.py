"""Response and anomaly handles (marking.queue.handles): opaque, unlinkable, session-bound."""

from __future__ import annotations

import itertools
import re

from marking.queue import handles
from marking.queue.handles import Kind

KEY, OTHER_KEY = bytes(range(16)), bytes(range(1, 17))
HANDLE = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")


def test_a_handle_names_its_row_in_its_session_only() -> None:
    handle = handles.encode(KEY, Kind.RESPONSE, 7, 1895)
    assert HANDLE.fullmatch(handle)
    assert handles.decode(KEY, Kind.RESPONSE, 7, handle) == 1895
    assert handles.decode(KEY, Kind.RESPONSE, 7, handle.lower()) == 1895
    # Another session (its own key, or the same key under another id) does not know it,
    # nor does it stand for an anomaly report of the same number.
    assert handles.decode(OTHER_KEY, Kind.RESPONSE, 8, handle) is None
    assert handles.decode(KEY, Kind.RESPONSE, 8, handle) is None
    assert handles.decode(KEY, Kind.ANOMALY, 7, handle) is None


def test_neighbouring_rows_get_unrelated_handles() -> None:
    """The one-candidate batch of the review: ids 1895 and 1897 must not look related."""
    shown = [handles.encode(KEY, Kind.RESPONSE, 7, rid) for rid in range(1890, 1900)]
    assert len(set(shown)) == 10
    assert sorted(shown) != shown and sorted(shown, reverse=True) != shown
    # No shared prefix or suffix gives neighbours away.
    for a, b in itertools.pairwise(shown):
        assert a[:4] != b[:4] and a[-4:] != b[-4:]
    for rid in range(1890, 1900):
        assert str(rid) not in "".join(shown)


def test_forged_and_malformed_handles_do_not_decode() -> None:
    real = handles.encode(KEY, Kind.RESPONSE, 7, 1895)
    tampered = real[:-1] + ("0" if real[-1] != "0" else "1")
    for text in (tampered, "0" * 26, "Z" * 26, "1895", "", real + "0", real[:-1] + "U", "🙂" * 26):
        assert handles.decode(KEY, Kind.RESPONSE, 7, text) is None, text
