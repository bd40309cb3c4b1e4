"""The domain rules, with no database: session definitions (`session.toml`), the marking arithmetic
and reconciliation, objective scoring, and the reading of the offices' files (CSV, XLSX, zip).
"""
