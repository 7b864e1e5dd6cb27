"""Benchmarks of the live path and the snapshot API against real servers (`make bench`).

`python -m bench` runs everything on its own database (`ioc_bench`) and, unless DATABASE_URL /
REDIS_URL are set, on embedded PostgreSQL and Redis under var/bench. Results are printed as a
table and written to var/bench/results.json.
"""
