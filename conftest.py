"""Test set-up shared by every test: real PostgreSQL and Redis (embedded unless configured)."""

import os


def pytest_unconfigure(config):
    # Leave no server running that this run started; one started by another run stays up for it.
    if not os.environ.get("DATABASE_URL") and not os.environ.get("REDIS_URL"):
        from ioc import embedded

        embedded.stop_all(only_started_here=True)
