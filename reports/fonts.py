"""The CJK fonts the reports embed: Noto Sans CJK SC (regular, bold) and its monospaced
twin, taken from Debian's fonts-noto-cjk collections (installed by `make fonts`).

The collections (.ttc) hold ten faces each (JP, KR, SC, TC, HK; proportional and mono);
which one a renderer picks from a collection is up to fontconfig. So the SC faces are
copied out once into standalone files (half a second, no glyph is changed) in a cache
folder, and embedded through @font-face from there: the PDF looks the same on any
reader, whatever fonts the reading machine has.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fontTools.ttLib import TTCollection, TTFont

from reports.errors import ReportError

# Debian's fonts-noto-cjk, then the places other distributions use.
FOLDERS = (
    Path("/usr/share/fonts/opentype/noto"),
    Path("/usr/share/fonts/noto-cjk"),
    Path("/usr/share/fonts/google-noto-cjk"),
)
FACES = {
    # file name in the cache: (collection, family of the face inside it)
    "BlindmarkSans-Regular.otf": ("NotoSansCJK-Regular.ttc", "Noto Sans CJK SC"),
    "BlindmarkSans-Bold.otf": ("NotoSansCJK-Bold.ttc", "Noto Sans CJK SC"),
    "BlindmarkMono-Regular.otf": ("NotoSansCJK-Regular.ttc", "Noto Sans Mono CJK SC"),
}
INSTALL_HINT = (
    "run `make fonts` (installs Debian's fonts-noto-cjk; needs root), or set "
    "BLINDMARK_CJK_FONT_DIR to a folder holding NotoSansCJK-Regular.ttc and NotoSansCJK-Bold.ttc"
)


@dataclass(frozen=True)
class CjkFonts:
    regular: Path
    bold: Path
    mono: Path

    @property
    def files(self) -> tuple[Path, ...]:
        return (self.regular, self.bold, self.mono)


def _source_folder() -> Path:
    env = os.environ.get("BLINDMARK_CJK_FONT_DIR")
    folders = (Path(env),) if env else FOLDERS
    for folder in folders:
        if all((folder / name).is_file() for name, _family in FACES.values()):
            return folder
    raise ReportError(f"no CJK font for the reports: {INSTALL_HINT}")


def _cache_folder() -> Path:
    base = os.environ.get("BLINDMARK_FONT_CACHE")
    if base:
        return Path(base)
    home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return home / "blindmark" / "fonts"


def _extract(collection: Path, family: str, out: Path) -> None:
    # The collection holds its file open until closed: a first extraction on a fresh machine
    # would otherwise leave it to the garbage collector (a ResourceWarning, an error in tests).
    with TTCollection(str(collection), lazy=True) as fonts:
        for font in fonts.fonts:
            if font["name"].getDebugName(1) == family:
                break
        else:
            raise ReportError(f"{collection} has no face {family!r}: {INSTALL_HINT}")
        out.parent.mkdir(parents=True, exist_ok=True)
        # Written beside, then renamed: worker processes may race here, and none may read half.
        fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".part")
        os.close(fd)
        try:
            font.save(tmp)
            os.chmod(tmp, 0o644)
            TTFont(tmp, lazy=True).close()  # it reads back
            os.replace(tmp, out)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)


@cache
def cjk_fonts() -> CjkFonts:
    """The three faces as standalone files, extracted on first use.

    Raises ReportError saying how to install the fonts when they are missing."""
    source = _source_folder()
    cache_dir = _cache_folder()
    out: dict[str, Path] = {}
    for name, (collection_name, family) in FACES.items():
        collection = source / collection_name
        stamp = collection.stat()
        target = cache_dir / f"{stamp.st_size}-{int(stamp.st_mtime)}" / name
        if not target.is_file():
            _extract(collection, family, target)
        out[name] = target.resolve()
    return CjkFonts(
        out["BlindmarkSans-Regular.otf"],
        out["BlindmarkSans-Bold.otf"],
        out["BlindmarkMono-Regular.otf"],
    )
