"""Test set-up shared by every test: real PostgreSQL and Redis (embedded unless configured).

`IOC_TEST_CLOCK` (an ISO 8601 moment, e.g. `2027-02-06T23:59:00+07:00`) runs the whole suite with
the clock set to that moment and ticking from there, in this process and in every Python process a
test starts, to prove that no test depends on today's date or the time of day.
"""

import os
import time
from datetime import datetime
from pathlib import Path

_clock = None


def pytest_configure(config):
    global _clock
    moment = os.environ.get("IOC_TEST_CLOCK")
    if not moment:
        return
    import time_machine

    shift = datetime.fromisoformat(moment).timestamp() - time.time()
    # Child processes (commands, workers, the browser tests' server) shift their clocks the same way.
    os.environ["IOC_TEST_CLOCK_SHIFT"] = str(shift)
    clock_dir = str(Path(__file__).parent / "tests" / "clock")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [clock_dir, os.environ.get("PYTHONPATH")]))
    _clock = time_machine.travel(moment, tick=True)
    _clock.start()


def pytest_report_header(config):
    if _clock is not None:
        return f"clock: IOC_TEST_CLOCK={os.environ['IOC_TEST_CLOCK']}"
    return None


def pytest_unconfigure(config):
    # Leave no server running that this run started; one started by another run stays up for it.
    if not os.environ.get("DATABASE_URL") and not os.environ.get("REDIS_URL"):
        from ioc import embedded

        embedded.stop_all(only_started_here=True)
    if _clock is not None:
        _clock.stop()
