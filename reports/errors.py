"""Report errors: domain errors, so the CLI and the web turn them into exit codes and statuses."""

from __future__ import annotations

from marking.errors import MarkingError


class ReportError(MarkingError):
    """A report cannot be produced (no CJK font, a bad option, a refused resource)."""

    exit_code = 8
