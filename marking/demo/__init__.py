"""The demo room: synthetic rosters, papers and registers (seeded), simulated examiners and lead,
`blindmark demo` and the web demo's seeding. Never used by real intake; nothing outside
`marking` imports it but the tests and benchmarks.
"""
