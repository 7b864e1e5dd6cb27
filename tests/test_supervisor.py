"""`make run` keeps its processes running: a killed child comes back, a dead Redis is started again."""

import os
import signal
import sys
import time

import redis

from ioc import embedded, supervisor
from ioc.supervisor import Server, Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


def until(predicate, seconds=10.0, step=0.1):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def test_a_killed_child_is_started_again_and_stop_ends_everything():
    said = []
    watch = Supervisor({"web": SLEEPER, "worker": SLEEPER}, env=dict(os.environ), say=said.append)
    watch.start()
    try:
        web = watch.children["web"].process
        worker = watch.children["worker"].process
        os.kill(web.pid, signal.SIGKILL)

        def restarted():
            watch.check()
            process = watch.children["web"].process
            return process is not None and process.pid != web.pid

        assert until(restarted, seconds=5), said
        assert watch.children["web"].restarts == 1
        assert watch.children["worker"].process is worker  # the other child was left alone
        assert any("web exited with code -9" in line for line in said)
    finally:
        watch.stop()
    assert all(child.process.poll() is not None for child in watch.children.values())


def test_a_child_that_keeps_failing_waits_longer_each_time(monkeypatch):
    monkeypatch.setattr(supervisor, "FIRST_BACKOFF", 0.2)
    said = []
    watch = Supervisor({"feed": [sys.executable, "-c", "raise SystemExit(3)"]}, env=dict(os.environ), say=said.append)
    watch.start()
    try:
        until(lambda: watch.check() or watch.children["feed"].restarts >= 3, seconds=10, step=0.05)
    finally:
        watch.stop()
    pauses = [float(line.rsplit(" in ", 1)[1].split()[0]) for line in said if "exited with code 3" in line]
    assert len(pauses) >= 3
    assert pauses[:3] == sorted(pauses[:3]) and pauses[2] > pauses[0]


def test_a_dead_redis_is_started_again_with_its_data(tmp_path, monkeypatch):
    monkeypatch.setattr(supervisor, "SERVER_CHECK_EVERY", 0.0)
    directory = tmp_path / "redis"
    sock = embedded.start_redis(directory)
    try:
        client = redis.Redis(unix_socket_path=str(sock))
        client.set("ioc-test:kept", "1")
        time.sleep(1.2)  # the append-only file is written every second
        said = []
        watch = Supervisor(
            {},
            env=dict(os.environ),
            servers=[
                Server("embedded Redis", lambda: embedded._redis_ping(sock), lambda: embedded.start_redis(directory))
            ],
            say=said.append,
        )
        os.kill(int((directory / "redis.pid").read_text()), signal.SIGKILL)
        assert until(lambda: not embedded._redis_ping(sock), seconds=5)
        assert until(lambda: watch.check() or embedded._redis_ping(sock), seconds=10)
        assert watch.servers[0].restarts == 1 and "embedded Redis is running again." in said
        assert redis.Redis(unix_socket_path=str(sock)).get("ioc-test:kept") == b"1"
    finally:
        embedded.stop_redis(directory)
