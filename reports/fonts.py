"""The CJK font the reports embed: Noto Sans CJK, found where `make fonts` installs it.

Embedded through @font-face from a file the URL fetcher allows, so a PDF looks the same
on any reader whatever fonts that machine has.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from reports.errors import ReportError

# Debian's fonts-noto-cjk (installed by `make fonts`), then other common places.
SEARCH = (
    (
        Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
        Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
    ),
    (
        Path("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc"),
        Path("/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc"),
    ),
    (
        Path("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc"),
        Path("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Bold.ttc"),
    ),
)


@dataclass(frozen=True)
class CjkFonts:
    regular: Path
    bold: Path

    @property
    def files(self) -> tuple[Path, ...]:
        return (self.regular, self.bold)


def cjk_fonts() -> CjkFonts:
    """The regular and bold faces; ``BLINDMARK_CJK_FONT`` (and ``BLINDMARK_CJK_FONT_BOLD``)
    name other files. Raises ReportError saying how to install one when none is found."""
    env = os.environ.get("BLINDMARK_CJK_FONT")
    if env:
        regular = Path(env)
        bold = Path(os.environ.get("BLINDMARK_CJK_FONT_BOLD") or env)
        for path in (regular, bold):
            if not path.is_file():
                raise ReportError(f"BLINDMARK_CJK_FONT names {path}, which is not a file")
        return CjkFonts(regular.resolve(), bold.resolve())
    for regular, bold in SEARCH:
        if regular.is_file():
            return CjkFonts(regular, bold if bold.is_file() else regular)
    raise ReportError(
        "no CJK font for the reports: run `make fonts` (installs Debian's fonts-noto-cjk; "
        "needs root), or set BLINDMARK_CJK_FONT to a Noto Sans CJK / Source Han Sans file"
    )
