"""blindmark's core, room by room: domain (rules, no database), store, people, setup, intake,
queue, publication, audit, read, demo and the `blindmark` command line (cli).
"""
