"""Loaded by every Python process the suite starts while IOC_TEST_CLOCK is set (see conftest.py).

A command, a worker or a web server started by a test sees the same shifted clock as the test
itself, so "now" agrees across the processes of one run.
"""

import os

_shift = os.environ.get("IOC_TEST_CLOCK_SHIFT")
if _shift:
    import time

    import time_machine

    time_machine.travel(time.time() + float(_shift), tick=True).start()
