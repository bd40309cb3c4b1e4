"""The read side: what the screens, exports and reports read (per-role views, a session's status,
the §11 CSV exports, report data). Nothing here writes.
"""
