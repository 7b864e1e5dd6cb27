"""Decision 766 indicators on a worked example whose expected values are computed by hand below.

October 2026 at Phường Long Khánh (no public holiday that month; sessions 07:30-11:30, 13:30-17:00).

| dossier | received | due | what happened | handled in Oct? | on time? |
|---|---|---|---|---|---|
| A | Mon 5 Oct | Thu 8 Oct 08:00 | finished Wed 7 Oct | yes | yes |
| B | Mon 5 Oct | Thu 8 Oct 08:00 | finished Fri 9 Oct; citizen "dislike" | yes | no |
| C | Mon 12 Oct | Fri 16 Oct 09:00 | supplement Tue 13 09:00 -> Thu 15 09:00, finished Mon 19 15:00 | yes | yes (*) |
| D | Mon 12 Oct | Thu 22 Oct 17:00 | two supplement requests, finished Mon 19; complaint | yes | no (second request) |
| E | Mon 26 Oct | Thu 29 Oct 17:00 | still in process on 1 Nov | yes | no (judged at the period end) |
| F | Thu 29 Oct | Tue 3 Nov 17:00 | still in process on 1 Nov | yes | yes |
| H | Mon 28 Sep | Fri 2 Oct 17:00 | finished Fri 2 Oct 10:00 | yes (finished in Oct) | yes |
| J | Mon 26 Oct | Fri 30 Oct 17:00 | supplement asked Wed 28 Oct, answered 3 Nov | yes (open) | yes (clock stopped) |
| G | Sep | | finished in September | no | - |
| I | Tue 6 Oct | | not accepted (status 3) | no | - |

(*) The citizen's time from Tue 13 09:00 to Thu 15 09:00 is 2.5 + 3.5 + 7.5 + 1.5 = 15 working hours;
the due moment Fri 16 09:00 plus 15 working hours is Tue 20 Oct 09:00, after the finish on Mon 19 15:00.
Without the exclusion C would be late.
"""

from datetime import datetime

import pytest

from ioc.scope import EVERYTHING, Scope
from ioc.worktime import LOCAL_TZ
from onestop import selectors
from onestop.models import Dossier, Office, Procedure
from onestop.services import dossiers_upsert

pytestmark = pytest.mark.django_db

OCTOBER = selectors.parse_period("2026-10")


def at(text: str) -> str:
    return datetime.fromisoformat(text).replace(tzinfo=LOCAL_TZ).isoformat()


def item(code, received, due, status, *, unit="26080", channel=1, ended=None, supplements=(), **extra):
    return {
        "code": code,
        "procedure": "2.000815",
        "unit": unit,
        "status": status,
        "channel": channel,
        "received_at": at(received),
        "due_at": at(due) if due else None,
        "processing_ended_at": at(ended) if ended else None,
        "supplements": [{"requested_at": at(r), "supplied_at": at(s) if s else None} for r, s in supplements],
        "updated_at": at(ended or received),
        **extra,
    }


@pytest.fixture
def october(city):
    Procedure.objects.create(code="2.000815", name="Chứng thực bản sao", field="Chứng thực", has_fees=False)
    Office.objects.create(unit=city["long_khanh"], name="Một cửa Long Khánh")
    Office.objects.create(unit=city["binh_loc"], name="Một cửa Bình Lộc")
    items = [
        item("A", "2026-10-05 08:00", "2026-10-08 08:00", 10, channel=2, ended="2026-10-07 10:00",
             digitized=True, electronic_result=True, has_fees=True, paid_online=True, satisfaction="satisfied"),
        item("B", "2026-10-05 08:30", "2026-10-08 08:00", 10, ended="2026-10-09 10:00",
             digitized=True, has_fees=True, satisfaction="dislike"),
        item("C", "2026-10-12 08:00", "2026-10-16 09:00", 9, channel=2, ended="2026-10-19 15:00",
             supplements=[("2026-10-13 09:00", "2026-10-15 09:00")], digitized=True, electronic_result=True),
        item("D", "2026-10-12 08:00", "2026-10-22 17:00", 9, ended="2026-10-19 10:00", complaint=True,
             supplements=[("2026-10-13 09:00", "2026-10-14 09:00"), ("2026-10-15 09:00", "2026-10-16 09:00")]),
        item("E", "2026-10-26 08:00", "2026-10-29 17:00", 4, channel=2),
        item("F", "2026-10-29 08:00", "2026-11-03 17:00", 4, has_fees=True, paid_online=True),
        item("H", "2026-09-28 08:00", "2026-10-02 17:00", 10, ended="2026-10-02 10:00"),
        item("J", "2026-10-26 08:00", "2026-10-30 17:00", 9, ended="2026-11-05 10:00", has_fees=True,
             supplements=[("2026-10-28 09:00", "2026-11-03 09:00")]),
        item("G", "2026-09-07 08:00", "2026-09-10 17:00", 10, ended="2026-09-09 10:00", channel=2),
        item("I", "2026-10-06 08:00", None, 3),
        # Another ward: one late dossier, so the ranking has two rows.
        item("BL-1", "2026-10-05 08:00", "2026-10-06 08:00", 10, unit="26089", ended="2026-10-06 09:00"),
    ]  # fmt: skip
    results = dossiers_upsert(items=items, scope=EVERYTHING)
    assert {r["status"] for r in results} == {"created"}, results
    return city


def test_the_supplement_time_is_added_in_working_time(october):
    assert Dossier.objects.get(code="C").extended_due_at == datetime(2026, 10, 20, 9, 0, tzinfo=LOCAL_TZ)


def test_each_766_formula_on_the_worked_example(october):
    figures = selectors.indicators(Scope(unit=october["long_khanh"]), OCTOBER)
    counts, rates = figures["counts"], figures["rates"]

    # Handled: A B C D E F H J (G finished in September, I was not accepted).
    assert counts["handled"] == 8
    # On time: A, C (supplement time excluded), F (due after the period), H, J (waiting on the citizen).
    # Late: B (finished after its due), D (second supplement request), E (open at the period end, past due).
    assert counts["on_time"] == 5
    assert rates["on_time_rate"] == round(100 * 5 / 8, 2) == 62.5
    # Received in October: A B C D E F J (H came in September, I not accepted).
    assert counts["received"] == 7
    # Online (channel 2): A C E.
    assert rates["online_rate"] == round(100 * 3 / 7, 2) == 42.86
    # Digitized inputs and an electronic result: A C (B has no electronic result).
    assert rates["digitization_rate"] == round(100 * 2 / 7, 2) == 28.57
    # With fees: A B F J; paid online: A F.
    assert rates["online_payment_rate"] == 50.0
    # Complaint or dislike among the handled: B (dislike), D (complaint): 2 / 8 = 25 %.
    # Satisfaction = 100 % - (overdue 37.5 % + complaints 25 %) = 37.5 %.
    assert rates["complaint_rate"] == 25.0
    assert rates["satisfaction_rate"] == 100 - (37.5 + 25.0) == 37.5

    points = {g["code"]: g["points"] for g in figures["groups"]}
    assert points == {
        "transparency": 18.0,  # every received dossier has a due date: 18 x 100/100 (estimated)
        "progress": 12.5,  # 20 x 62.5/100
        "online_services": round(12 * 42.86 / 50, 2),  # 10.29, full points would need 50 %
        "online_payment": round(10 * 50 / 80, 2),  # 6.25, full at 80 %
        "satisfaction": round(18 * 37.5 / 90, 2),  # 7.5, full at 90 %
        "digitization": round(22 * 28.57 / 80, 2),  # 7.86, full at 80 %
    }
    assert figures["score"] == round(18 + 12.5 + 10.29 + 6.25 + 7.5 + 7.86, 2) == 62.4
    assert [g["code"] for g in figures["groups"] if g["estimated"]] == ["transparency"]


def test_full_points_are_capped(october):
    groups = selectors.group_scores(
        {
            "due_date_rate": 100.0,
            "on_time_rate": 100.0,
            "online_rate": 75.0,
            "online_payment_rate": 95.0,
            "satisfaction_rate": 92.0,
            "digitization_rate": 81.0,
        }
    )
    assert sum(g["points"] for g in groups) == 100


def test_periods(october):
    quarter = selectors.indicators(Scope(unit=october["long_khanh"]), selectors.parse_period("2026-Q4"))
    # The quarter is still running: open dossiers are judged now (after 26 Nov 2026), so F (due 3 Nov) is
    # late too. J's citizen time (28 Oct 09:00 to 3 Nov 09:00) is 6 + 7.5 + 7.5 + 7.5 + 1.5 = 30 working
    # hours: due 30 Oct 17:00 becomes 5 Nov 17:00, and it finished on 5 Nov 10:00: on time.
    # On time: A, C, H, J.
    assert quarter["counts"]["handled"] == 8 and quarter["counts"]["on_time"] == 4
    september = selectors.indicators(Scope(unit=october["long_khanh"]), selectors.parse_period("2026-09"))
    # G finished in September; H was open on 1 October (due 2 Oct): on time. Both received in September.
    assert september["counts"]["handled"] == 2 and september["rates"]["on_time_rate"] == 100.0
    custom = selectors.parse_period("custom", start="2026-10-01", end="2026-10-31")
    assert (
        selectors.indicators(Scope(unit=october["long_khanh"]), custom)["counts"]
        == (selectors.indicators(Scope(unit=october["long_khanh"]), OCTOBER)["counts"])
    )
    with pytest.raises(Exception, match="period"):
        selectors.parse_period("last tuesday")


def test_the_ranking_puts_the_worst_unit_first(october):
    ranking = selectors.late_ranking(Scope(unit=october["province"]), OCTOBER)
    assert [(r["unit"], r["handled"], r["late"], r["late_rate"]) for r in ranking] == [
        ("26089", 1, 1, 100.0),
        ("26080", 8, 3, 37.5),
    ]


def test_indicators_api(october, people, api_as):
    leader = api_as(people["leader"])
    body = leader.get("/api/v1/onestop/indicators/?unit=26080&period=2026-10").json()
    assert body["rates"]["on_time_rate"] == 62.5 and body["score"] == 62.4
    province = leader.get("/api/v1/onestop/indicators/?period=2026-10").json()
    assert province["counts"]["handled"] == 9
    assert leader.get("/api/v1/onestop/indicators/?period=soon").status_code == 400
    ranking = leader.get("/api/v1/onestop/ranking/?period=2026-10").json()
    assert ranking[0]["unit"] == "26089"
