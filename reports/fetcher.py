"""The only way a report reaches outside its HTML: files of its own assets and its fonts.

As in indico's receipts (``indico/modules/receipts/util.py``), a report's template must
not be able to read arbitrary files or reach the network: every remote URL is refused,
and ``file:`` only within the report's assets folder or for the font files given.
A refusal stops the rendering (no half-styled document goes out).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from weasyprint.urls import FatalURLFetchingError, URLFetcher


class ResourceRefused(FatalURLFetchingError):  # type: ignore[misc]
    """A report asked for a URL it may not fetch."""


class ReportFetcher(URLFetcher):  # type: ignore[misc]
    def __init__(self, assets: Path, files: Iterable[Path] = ()) -> None:
        super().__init__(allowed_protocols=("file",), allow_redirects=False)
        self.assets = assets.resolve()
        self.files = frozenset(p.resolve() for p in files)

    def allows(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            return False
        path = Path(unquote(parts.path)).resolve()
        return path in self.files or path.is_relative_to(self.assets)

    def fetch(self, url: str, headers: Any = None) -> Any:
        if not self.allows(url):
            raise ResourceRefused(f"report resource refused: {url}")
        return super().fetch(url, headers)
