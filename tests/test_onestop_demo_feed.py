"""The one-stop demo feed: dossiers, queues and counter cameras through the services; a clean stop."""

import io
import os
import signal
import time

import pytest
from django.core.management import CommandError, call_command

from onestop.demo import load_demo_offices
from onestop.models import Counter, Dossier, DossierStatusChange
from traffic.models import Camera

pytestmark = pytest.mark.django_db

FAST = ["--interval", "0", "--speed", "20000"]


@pytest.fixture
def demo_offices(city):
    load_demo_offices()


def test_feed_syncs_a_backlog_and_new_dossiers(demo_offices):
    out = io.StringIO()
    call_command("onestop_demo_feed", *FAST, "--count", "5", "--seed", "1", stdout=out)
    assert Dossier.objects.filter(code__startswith="DEMO-B").count() == 40
    assert Dossier.objects.exclude(code__startswith="DEMO-B").count() == 5
    assert set(Dossier.objects.values_list("unit__code", flat=True)) <= {"26080", "26089", "26068"}
    assert DossierStatusChange.objects.filter(status__in=[9, 10]).exists()
    assert Counter.objects.filter(figures_at__isnull=False).exists()
    # Counter cameras send heartbeats, so the camera health sweep keeps them online.
    assert Camera.objects.filter(purpose="counter", health="online").count() == Counter.objects.count()
    assert "refused" not in out.getvalue() and "done: 5 dossiers" in out.getvalue()
    # A restart syncs the same backlog again: nothing new.
    call_command("onestop_demo_feed", *FAST, "--count", "0", "--seed", "2", stdout=_StopAfter("backlog"))
    assert Dossier.objects.filter(code__startswith="DEMO-B").count() == 40


class _StopAfter(io.StringIO):
    """Sends SIGTERM to this process when the feed first writes `text`."""

    def __init__(self, text, signum=signal.SIGTERM):
        super().__init__()
        self.text, self.signum, self.sent = text, signum, False

    def write(self, text):
        if not self.sent and self.text in text:
            self.sent = True
            os.kill(os.getpid(), self.signum)
        return super().write(text)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_feed_stops_cleanly_on_signal(demo_offices, signum):
    before = signal.getsignal(signum)
    out = _StopAfter(" new ", signum)
    started = time.monotonic()
    call_command("onestop_demo_feed", "--interval", "30", "--no-backlog", stdout=out)
    assert time.monotonic() - started < 5
    assert out.sent and out.getvalue().rstrip().endswith("stopped")
    assert signal.getsignal(signum) == before


def test_without_demo_data_it_says_what_to_run(city):
    with pytest.raises(CommandError, match="load_demo"):
        call_command("onestop_demo_feed", "--count", "1", stdout=io.StringIO())
