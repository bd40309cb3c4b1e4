"""Imported first by every benchmark script: the import path they all need.

Run from bench/, a script has bench/ first on sys.path, and bench/ holds queue.py, http.py
and reports.py: the names of the standard library's ``queue`` and ``http`` (which psycopg,
multiprocessing and urllib import) and of blindmark's own ``reports`` package. The
project's root goes first, so its packages win; bench/ goes last, behind the standard
library, so the helpers (``_common``, ``_session``, ...) still import.
"""

from __future__ import annotations

import os
import sys

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)

sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) not in (BENCH, ROOT)]
sys.path.insert(0, ROOT)
sys.path.append(BENCH)
