"""The audit room: the append-only, hash-chained ledger (one chain per actor and one for accounts)
and `blindmark verify`, which recomputes the chains and checks the tables against them.
"""
