"""Triage suggestions: judged on the hand-written evaluation set, served to operators, their use counted."""

import io
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from ioc.models import Notification, Unit
from ioc.services import unit_upsert
from reports import services, triage
from reports.demo import demo_catalogue, load_demo_categories
from reports.models import Category, Report, Status, TriageModel, TriageSuggestion

EVALUATION_SET = Path(__file__).parent / "data" / "triage" / "reports_vi.jsonl"
CUT = datetime.fromisoformat("2026-09-01T00:00:00+07:00")
THRESHOLD = 0.6


@pytest.fixture(scope="module")
def rows():
    return triage.read_evaluation_set(EVALUATION_SET)


@pytest.fixture(scope="module")
def figures(rows):
    older = [r for r in rows if r.example.received_at < CUT]
    newer = [r for r in rows if r.example.received_at >= CUT]
    return triage.evaluate(
        older, newer, demo_catalogue(), threshold=THRESHOLD, radius=150, days=7, duplicate_threshold=0.35
    )


# --- judged on reports it never learned from ----------------------------------------------------


def test_the_model_beats_the_keyword_rules_and_the_most_frequent_answer(figures):
    assert figures["test_reports"] == 193  # the newer side of the time split
    for figure in ("category_top1", "category_top3", "level", "unit"):
        model = figures["model"][figure]
        assert model > figures["rules"][figure], figure
        assert model > figures["most_frequent"][figure], figure
    assert figures["model"]["category_top1"] >= 0.8


def test_text_typed_without_diacritics_scores_within_a_few_points(figures):
    with_marks, without = figures["model"]["category_top1"], figures["model_without_diacritics"]["category_top1"]
    assert abs(with_marks - without) <= 0.03


def test_a_report_that_fits_no_category_is_not_forced_into_one(figures):
    assert figures["forced"]["model"] <= 0.1


def test_a_category_the_model_never_learned_is_not_forced_into_another(rows):
    """A category added to the catalogue after training: the model defers to its keywords rather than
    pushing its reports into a category it knows."""
    new = {"cay-xanh", "chay-no"}
    older = [r.example for r in rows if r.example.received_at < CUT and r.example.category not in new]
    newer = [r.example for r in rows if r.example.received_at >= CUT and r.example.category in new]
    catalogue = demo_catalogue()
    served = triage.Blend(triage.train(older, catalogue).model, triage.Rules(catalogue)).predict(newer)
    forced = [
        s for s, e in zip(served, newer, strict=True) if s.category[0] != e.category and s.category[1] >= THRESHOLD
    ]
    assert len(newer) >= 10
    assert len(forced) <= len(newer) // 5


def test_confidence_means_what_it_says(figures):
    # Shown suggestions are right at least as often as the threshold promises, and the confidence is
    # within a few points of how often it is right.
    assert figures["at_threshold"]["model"]["right_when_shown"] >= THRESHOLD
    assert figures["calibration_error"] <= 0.1


def test_a_stored_model_is_plain_numbers_and_words(rows):
    examples = [r.example for r in rows[:150]]
    model = triage.train(examples, demo_catalogue()).model
    blob = model.dumps()
    again = triage.Model.loads(blob)
    assert [s.categories for s in again.predict(examples[:20])] == [s.categories for s in model.predict(examples[:20])]
    with np.load(io.BytesIO(blob), allow_pickle=False) as stored:  # loads without pickle: no code inside
        assert all(stored[name].dtype != object for name in stored.files)


def test_the_words_that_drove_a_suggestion_come_from_the_text(rows):
    model = triage.train([r.example for r in rows], demo_catalogue()).model
    example = triage.Example(text="Ổ gà rất sâu giữa đường Hùng Vương", ward="26080", received_at=timezone.now())
    suggestion = model.suggest(example)
    assert suggestion.category[0] == "o-ga-mat-duong"
    assert suggestion.words and all(w in example.text.lower() for w in suggestion.words)


def test_triage_eval_prints_the_figures_beside_the_baselines():
    out = io.StringIO()
    call_command("triage_eval", stdout=out)
    text = out.getvalue()
    assert "category top-1" in text and "keywords" in text and "most freq." in text and "duplicates among" in text


# --- in the console ------------------------------------------------------------------------------


@pytest.fixture
def demo_categories(city):
    for code, name in (
        ("75-SXD", "Sở Xây dựng"),
        ("75-SNNMT", "Sở Nông nghiệp và Môi trường"),
        ("75-PC", "Điện lực"),
        ("75-CN", "Cấp nước"),
    ):
        unit_upsert(code=code, name=name, kind=Unit.Kind.DEPARTMENT, parent=city["province"])
    Unit.objects.filter(code="26080").update(latitude=10.9370, longitude=107.2430)
    load_demo_categories()
    services.forget_triage_model()
    yield {c.code: c for c in Category.objects.all()}
    services.forget_triage_model()


def _submit(category, text, where=(10.9372, 107.2431), **extra):
    report, _ = services.report_submit(
        category=category, description=text, latitude=where[0], longitude=where[1], reporter_phone="0912345678", **extra
    )
    return report


def test_the_operator_sees_a_suggestion_and_takes_it_with_one_step(demo_categories, people, api_as):
    # The citizen filed a pothole under rubbish; the text says pothole.
    report = _submit(demo_categories["rac-thai"], "Ổ gà lớn giữa đường, hôm qua hai xe máy bị té")
    operator = api_as(people["operator"])
    shown = operator.get(f"/api/v1/reports/{report.pk}/").json()["suggestion"]
    assert shown["category"] == "o-ga-mat-duong" and shown["confidence"] >= THRESHOLD
    assert shown["unit"] == "75-SXD" and shown["source"] == "rules" and "ổ gà" in shown["words"]

    answer = operator.post(f"/api/v1/reports/{report.pk}/take-suggestion/", {}, format="json")
    assert answer.status_code == 200
    report.refresh_from_db()
    assert report.status == Status.ASSIGNED
    assert report.category.code == "o-ga-mat-duong" and report.assigned_unit.code == "75-SXD"
    decision = TriageSuggestion.objects.get(report=report)
    assert decision.taken and decision.final_category.code == "o-ga-mat-duong" and decision.final_unit.code == "75-SXD"
    assert report.submitted_category.code == "rac-thai"  # the citizen's pick is kept for learning


def test_no_suggestion_below_the_threshold_and_nothing_to_take(demo_categories, people, api_as):
    report = _submit(demo_categories["rac-thai"], "Xin hỏi thủ tục đăng ký tạm trú cho sinh viên")
    operator = api_as(people["operator"])
    assert operator.get(f"/api/v1/reports/{report.pk}/").json()["suggestion"] is None
    answer = operator.post(f"/api/v1/reports/{report.pk}/take-suggestion/", {}, format="json")
    assert answer.status_code == 409 and answer.json()["detail"]
    report.refresh_from_db()
    assert report.status == Status.RECEIVED


def test_an_operator_who_overrides_is_counted_as_not_taking_it(demo_categories, people, api_as, city):
    report = _submit(demo_categories["o-ga-mat-duong"], "Ổ gà sâu trước chợ, nước đọng")
    operator = api_as(people["operator"])
    operator.get(f"/api/v1/reports/{report.pk}/")
    body = {"category": "ngap-nuoc", "level": "complex"}
    assert operator.post(f"/api/v1/reports/{report.pk}/accept/", body, format="json").status_code == 200
    decision = TriageSuggestion.objects.get(report=report)
    assert not decision.taken and decision.decided_at and decision.final_category.code == "ngap-nuoc"


def test_unit_staff_and_machines_get_no_suggestion(demo_categories, people, api_as, city):
    from ioc.services import api_key_create

    report = _submit(demo_categories["rac-thai"], "Rác thải đổ đầy đầu hẻm, bốc mùi")
    assert api_as(people["staff_lk"]).get(f"/api/v1/reports/{report.pk}/").json().get("suggestion") is None
    _, key = api_key_create(name="vendor", scopes=["reports:read"], unit=city["province"])
    from rest_framework.test import APIClient

    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get(f"/api/v1/reports/{report.pk}/").json()["suggestion"] is None
    assert client.post(f"/api/v1/reports/{report.pk}/take-suggestion/").status_code == 403
    assert not TriageSuggestion.objects.exists()


def test_acceptance_and_accuracy_per_week_on_the_admin_page(demo_categories, people, api_as, client):
    with time_machine.travel(datetime(2026, 11, 18, 9, 0, tzinfo=triage.LOCAL), tick=False):
        taken = _submit(demo_categories["rac-thai"], "Rác thải đổ đầy đầu hẻm, bốc mùi hôi thối")
        overridden = _submit(demo_categories["rac-thai"], "Cây xanh gãy đổ chắn ngang đường")
        operator = api_as(people["operator"])
        for report in (taken, overridden):
            operator.get(f"/api/v1/reports/{report.pk}/")
        operator.post(f"/api/v1/reports/{taken.pk}/take-suggestion/", {}, format="json")
        operator.post(f"/api/v1/reports/{overridden.pk}/accept/", {"category": "o-ga-mat-duong"}, format="json")
        from reports.selectors import triage_figures

        figures = triage_figures(weeks=2)
        week = figures["weeks"][0]
        assert week["week"].isoformat() == "2026-11-16"  # the local Monday
        assert week["decided"] == 2 and week["acceptance"] == 0.5 and week["category"] == 0.5
        by_category = {row["name"]: row["decided"] for row in figures["categories"]}
        assert by_category == {"Rác thải, vệ sinh môi trường": 1, "Ổ gà, hư hỏng mặt đường": 1}
        client.force_login(people["admin"])
        page = client.get("/admin/reports/triagemodel/")
    assert page.status_code == 200
    assert "16/11/2026" in page.content.decode() and "50 %" in page.content.decode()


# --- learning from the city's decisions ---------------------------------------------------------


def _decided(rows, demo_categories, people, city):
    """The evaluation set's older reports as this city's triaged history (without its reporters)."""
    Unit = type(city["province"])
    units = {}
    for row in rows:
        e = row.example
        units[e.ward] = (
            units.get(e.ward)
            or Unit.objects.get_or_create(
                code=e.ward, defaults={"name": f"Phường {e.ward}", "kind": Unit.Kind.WARD, "parent": city["province"]}
            )[0]
        )
    Unit.objects.get_or_create(code="75-CN", defaults={"name": "Cấp nước", "kind": Unit.Kind.DEPARTMENT})
    departments = {u.code: u for u in Unit.objects.filter(kind=Unit.Kind.DEPARTMENT)}
    made = []
    for i, row in enumerate(rows):
        e = row.example
        category = demo_categories[e.category] if e.category else demo_categories["rac-thai"]
        assigned = units[e.ward] if e.unit == triage.WARD else departments.get(e.unit)
        made.append(
            Report(
                tracking_code=f"T{i:05d}",
                secret_hash="-",
                category=category,
                submitted_category=demo_categories.get(e.citizen_category),
                level=e.level or "normal",
                description=e.text,
                latitude=e.latitude,
                longitude=e.longitude,
                unit=units[e.ward],
                assigned_unit=assigned if e.category else None,
                status=Status.ASSIGNED if e.category else Status.REJECTED,
                accepted_at=e.received_at if e.category else None,
                received_at=e.received_at,
                reporter_name="Trần Thị Bí Mật",
                reporter_phone="0987654321",
            )
        )
    Report.objects.bulk_create(made)


def test_training_on_the_citys_decisions_takes_over_from_the_rules(rows, demo_categories, people, city, api_as):
    _decided([r for r in rows if r.example.received_at < CUT], demo_categories, people, city)
    out = io.StringIO()
    call_command("triage_train", stdout=out)
    stored = TriageModel.objects.get()
    assert stored.beats_baselines and stored.reports == 392 and "serves the console" in out.getvalue()
    assert stored.metrics["model"]["category_top1"] > stored.metrics["rules"]["category_top1"]
    # It keeps what citizens wrote, never who they are.
    with np.load(io.BytesIO(bytes(stored.blob)), allow_pickle=False) as arrays:
        words = b"".join(arrays[name].tobytes() for name in arrays.files if name.endswith(".terms")).decode()
    assert "bi mat" not in words and "bí mật" not in words and "0987654321" not in words

    report = _submit(
        demo_categories["rac-thai"], "den duong hem 5 tat ca tuan nay, toi thui", where=(10.9372, 107.2431)
    )
    shown = api_as(people["operator"]).get(f"/api/v1/reports/{report.pk}/").json()["suggestion"]
    assert shown["source"] == "model" and shown["model"] == stored.pk
    assert shown["category"] == "chieu-sang"


def test_too_little_history_keeps_the_rules(demo_categories, people, city, rows):
    _decided(rows[:20], demo_categories, people, city)
    assert services.triage_train() is None
    assert not TriageModel.objects.exists()


# --- duplicates by meaning and place ------------------------------------------------------------


def test_the_same_problem_filed_under_another_category_is_proposed_as_the_duplicate(demo_categories, people, api_as):
    first = _submit(demo_categories["o-ga-mat-duong"], "Ổ gà lớn trước số 45 Hùng Vương, xe máy té liên tục")
    _submit(demo_categories["rac-thai"], "Rác thải bừa bãi trước số 47 Hùng Vương", where=(10.93722, 107.24312))
    again = _submit(
        demo_categories["lan-chiem-via-he"],
        "o ga truoc so 45 hung vuong van chua va, xe may te",
        where=(10.93724, 107.24311),
    )
    found = api_as(people["operator"]).get(f"/api/v1/reports/{again.pk}/duplicates/").json()
    assert found[0]["tracking_code"] == first.tracking_code and found[0]["proposed"]
    assert not any(c["proposed"] for c in found[1:])


def test_one_answer_reaches_every_citizen_merged_into_the_report(demo_categories, people, api_as, city):
    first = _submit(demo_categories["o-ga-mat-duong"], "Ổ gà lớn trước số 45 Hùng Vương")
    second = _submit(demo_categories["o-ga-mat-duong"], "Ổ gà số 45 Hùng Vương", reporter_email="binh@example.vn")
    operator = api_as(people["operator"])
    operator.post(f"/api/v1/reports/{second.pk}/duplicate/", {"parent": first.pk}, format="json")
    operator.post(f"/api/v1/reports/{first.pk}/accept/", {}, format="json")
    operator.post(f"/api/v1/reports/{first.pk}/assign/", {"unit": "75-SXD"}, format="json")
    services.report_answer(report_id=first.pk, user=people["operator"], text="Đã vá ổ gà sáng nay.")
    told = Notification.objects.filter(body="Đã vá ổ gà sáng nay.")
    assert {n.recipient for n in told} >= {"binh@example.vn"}
    assert second.tracking_code in " ".join(n.subject for n in told)
    from reports.selectors import public_report

    second.refresh_from_db()
    assert [a["text"] for a in public_report(second)["answers"]] == ["Đã vá ổ gà sáng nay."]


def test_a_suggestion_is_made_once_and_kept(demo_categories, people, api_as):
    report = _submit(demo_categories["rac-thai"], "Rác thải đổ đầy đầu hẻm, bốc mùi")
    operator = api_as(people["operator"])
    first = operator.get(f"/api/v1/reports/{report.pk}/").json()["suggestion"]
    Category.objects.filter(code="rac-thai").update(keywords="")
    services.forget_triage_model()
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        again = operator.get(f"/api/v1/reports/{report.pk}/").json()["suggestion"]
    assert again == first and TriageSuggestion.objects.count() == 1


def test_serving_reads_a_report_exactly_as_training_did(rows):
    model = triage.Model.fit([r.example for r in rows[:200]])[0]
    texts = triage._inputs([r.example for r in rows[200:260]])
    for name, space in model.spaces.items():
        fast, checked = triage._tfidf(space, texts[name]), space.transform(texts[name])
        assert abs(fast - checked).max() < 1e-5, name
