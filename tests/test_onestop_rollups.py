"""The monthly roll-ups give the Decision 766 figures the dossiers give, for every whole-month period,
while the syncs keep changing the dossiers (a dossier finished, moved to another month, a second
supplement request after the finish), and after a rebuild from scratch."""

from datetime import datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from ioc.scope import EVERYTHING, Scope
from ioc.worktime import LOCAL_TZ
from onestop import selectors
from onestop.models import DossierMonth, Office, Procedure
from onestop.services import dossiers_upsert, rollup_rebuild

pytestmark = pytest.mark.django_db

PERIODS = ["2026-09", "2026-10", "2026-11", "2026-Q4", "2026", "2025"]


def at(text: str) -> str:
    return datetime.fromisoformat(text).replace(tzinfo=LOCAL_TZ).isoformat()


def item(code, received, status, *, unit="26080", procedure="2.000815", due=None, ended=None, supplements=(), **extra):
    return {
        "code": code,
        "procedure": procedure,
        "unit": unit,
        "status": status,
        "channel": extra.pop("channel", 1),
        "received_at": at(received),
        "due_at": at(due) if due else None,
        "processing_ended_at": at(ended) if ended else None,
        "supplements": [{"requested_at": at(r), "supplied_at": at(s) if s else None} for r, s in supplements],
        "updated_at": at(extra.pop("updated", ended or received)),
        **extra,
    }


def scanned(scope, period, now):
    return {k: v for k, v in selectors.scanned_figures_by_unit(scope, period, now).items() if any(v.values())}


def assert_same_figures(now):
    for scope in (EVERYTHING, Scope(unit=Office.objects.get(unit__code="26080").unit)):
        for label in PERIODS:
            period = selectors.parse_period(label)
            assert selectors.whole_months(period)
            assert selectors.figures_by_unit(scope, period, now) == scanned(scope, period, now), (scope.label, label)
            assert (
                selectors.indicators(scope, period, now)["counts"]
                == selectors.indicators(scope, period, now, per_unit=scanned(scope, period, now))["counts"]
            )


@pytest.fixture
def offices(city):
    Procedure.objects.create(code="2.000815", name="Chứng thực bản sao", duration_days=1, has_fees=True)
    Procedure.objects.create(code="1.003003", name="Cấp giấy phép xây dựng", duration_days=20)
    Office.objects.create(unit=city["long_khanh"], name="Một cửa Long Khánh")
    Office.objects.create(unit=city["binh_loc"], name="Một cửa Bình Lộc")
    return city


DOSSIERS = [
    item("A", "2026-10-05 08:00", 10, due="2026-10-08 08:00", ended="2026-10-07 10:00", channel=2,
         digitized=True, electronic_result=True, has_fees=True, paid_online=True, satisfaction="satisfied"),
    item("B", "2026-10-05 08:30", 10, due="2026-10-08 08:00", ended="2026-10-09 10:00", satisfaction="dislike"),
    item("C", "2026-10-12 08:00", 9, due="2026-10-16 09:00", ended="2026-10-19 15:00",
         supplements=[("2026-10-13 09:00", "2026-10-15 09:00")]),
    item("D", "2026-10-12 08:00", 9, due="2026-10-22 17:00", ended="2026-10-19 10:00", complaint=True,
         supplements=[("2026-10-13 09:00", "2026-10-14 09:00"), ("2026-10-15 09:00", "2026-10-16 09:00")]),
    # A second request recorded after the finish: judged from the dossier, not rolled up.
    item("K", "2026-10-12 08:00", 9, due="2026-10-22 17:00", ended="2026-10-14 10:00",
         supplements=[("2026-10-13 09:00", "2026-10-13 15:00"), ("2026-10-20 09:00", None)]),
    item("E", "2026-10-26 08:00", 4, due="2026-10-29 17:00", channel=2),
    item("F", "2026-10-29 08:00", 4, due="2026-11-03 17:00", has_fees=True, paid_online=True),
    item("H", "2026-09-28 08:00", 10, due="2026-10-02 17:00", ended="2026-10-02 10:00"),
    item("J", "2026-10-26 08:00", 9, due="2026-10-30 17:00", ended="2026-11-05 10:00",
         supplements=[("2026-10-28 09:00", "2026-11-03 09:00")]),
    item("G", "2026-09-07 08:00", 10, due="2026-09-10 17:00", ended="2026-09-09 10:00", channel=2),
    item("I", "2026-10-06 08:00", 3),
    item("W", "2026-10-06 08:00", 7, due="2026-10-08 17:00"),
    item("N", "2026-11-02 08:00", 2, procedure="1.003003"),  # no due date sent: the procedure's 20 days
    item("Y", "2025-12-30 08:00", 10, due="2026-01-05 17:00", ended="2026-01-06 10:00"),
    item("BL-1", "2026-10-05 08:00", 10, unit="26089", due="2026-10-06 08:00", ended="2026-10-06 09:00"),
    item("BL-2", "2026-11-20 08:00", 4, unit="26089", due="2026-11-21 08:00", procedure="1.003003"),
]  # fmt: skip


@time_machine.travel(datetime(2026, 11, 25, 10, 0, tzinfo=LOCAL_TZ), tick=False)
def test_the_roll_ups_give_the_scanned_figures_as_dossiers_change(offices):
    now = timezone.now()
    assert {r["status"] for r in dossiers_upsert(items=DOSSIERS, scope=EVERYTHING)} == {"created"}
    assert DossierMonth.objects.exists()
    assert_same_figures(now)
    figures = selectors.indicators(EVERYTHING, selectors.parse_period("2026-10"), now)
    assert figures["counts"]["handled"] > 0 and figures["counts"]["received"] > 0

    # E is finished late in November, F on time; J's finish moves; BL-1 is moved to another month.
    changes = [
        item("E", "2026-10-26 08:00", 10, due="2026-10-29 17:00", ended="2026-11-10 10:00", updated="2026-11-10 11:00"),
        item("F", "2026-10-29 08:00", 10, due="2026-11-03 17:00", ended="2026-11-02 10:00", updated="2026-11-02 11:00"),
        item("J", "2026-10-26 08:00", 10, due="2026-10-30 17:00", ended="2026-11-06 10:00",
             supplements=[("2026-10-28 09:00", "2026-11-03 09:00")], updated="2026-11-06 11:00"),
        item("BL-1", "2026-09-05 08:00", 10, unit="26089", due="2026-09-06 08:00", ended="2026-09-08 09:00",
             updated="2026-11-07 09:00"),
    ]  # fmt: skip
    assert {r["status"] for r in dossiers_upsert(items=changes, scope=EVERYTHING)} == {"updated"}
    assert_same_figures(now)

    # A rebuild from scratch writes the rows the syncs kept.
    columns = ["unit", "procedure", "received_month", "finished_month", *selectors.COUNT_NAMES]
    kept = sorted(DossierMonth.objects.values_list(*columns), key=str)
    rollup_rebuild()
    assert sorted(DossierMonth.objects.values_list(*columns), key=str) == kept


def test_a_period_that_is_not_whole_months_scans_the_dossiers(offices):
    period = selectors.parse_period("custom", start="2026-10-03", end="2026-10-20")
    assert not selectors.whole_months(period)


def test_generated_dossiers_give_the_same_figures_from_roll_ups_and_scan(db):
    call_command("bench_data", reports=0, events=0, dossiers=3000, reset=True, seed=11, stdout=StringIO())
    now = timezone.now()
    today = timezone.localdate()
    labels = ["year", "month", "quarter", str(today.year - 1)]
    labels += [
        f"{(today - timedelta(days=31 * n)).year}-{(today - timedelta(days=31 * n)).month:02d}" for n in range(12)
    ]
    for label in labels:
        period = selectors.parse_period(label)
        per_path = selectors.figures_by_unit(EVERYTHING, period, now, by="unit__path")
        assert selectors.figures_by_unit(EVERYTHING, period, now) == scanned(EVERYTHING, period, now), label
        assert per_path == {
            k: v
            for k, v in selectors.scanned_figures_by_unit(EVERYTHING, period, now, by="unit__path").items()
            if any(v.values())
        }
