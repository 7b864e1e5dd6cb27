"""Benchmarks of the live path, the snapshot API and report submission against real servers (`make bench`).

`python -m bench` runs everything on its own database (`ioc_bench`) and, unless DATABASE_URL /
REDIS_URL are set, on embedded PostgreSQL and Redis under var/bench. Results are printed as a
table and written to var/bench/results.json (IOC_VAR_DIR, when set, takes var/bench's place).

Every benchmark module is a list of phases, one function each, built on the same pieces:
`bench.load` offers the load (a fixed rate on the clock, or k concurrent clients) and gives back
`Results`; `bench.stats.summary` turns a `Results` into a row of the table; `bench.servers`
starts the servers and watches what a phase costs them (`Watch`).
"""
