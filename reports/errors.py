"""Report errors. ``reports`` stands on its own: its callers (``marking.read.reporting``)
turn these into the domain's errors, with the exit code and status the core gives them."""

from __future__ import annotations


class ReportError(Exception):
    """A report cannot be produced (no CJK font, a bad option, a refused resource)."""
