"""What a request may bring before any view runs: JSON numbers exact, as written."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider


class ExactJSONProvider(DefaultJSONProvider):
    """JSON numbers with a fraction or an exponent arrive as Decimal, exactly as written
    (``1e-1000030`` is not silently 0.0): the mark gate sees what the sender sent."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        kwargs.setdefault("parse_float", Decimal)
        try:
            return json.loads(s, **kwargs)
        except RecursionError:
            # "[[[[..." a few thousand deep: bad JSON (400), not a server error.
            raise ValueError("JSON nested too deeply") from None


def init_app(app: Flask) -> None:
    provider = ExactJSONProvider(app)
    provider.sort_keys = app.json.sort_keys  # type: ignore[attr-defined]
    app.json = provider
