"""Benchmarks of the live path, the snapshot API and report submission against real servers (`make bench`).

`python -m bench` runs everything on its own database (`ioc_bench`) and, unless DATABASE_URL /
REDIS_URL are set, on embedded PostgreSQL and Redis under var/bench. Results are printed as a
table and written to var/bench/results.json.
"""
