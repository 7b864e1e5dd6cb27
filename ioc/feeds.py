"""Shared plumbing of the demo feeds that `make run` starts as child processes."""

import signal
import threading


def install_stop_signals(handler) -> dict:
    """Route SIGTERM and SIGINT to `handler`; returns the previous handlers to restore.

    Only the main thread may set signal handlers (a feed run inside a test thread gets none).
    """
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous = {}
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous[signum] = signal.getsignal(signum)
        signal.signal(signum, handler)
    return previous
