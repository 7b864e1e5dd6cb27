"""Every operation of /api/schema/, fuzzed in-process with schemathesis: never a server error, and
every documented answer conforms to its response schema.

Run as anonymous, a ward's staff, the province leader, and an API key of each scope in
ioc.services.API_KEY_SCOPES (a new scope is picked up by itself). Valid and invalid inputs, a fixed
seed and a budget per operation; then a short stateful run over the links schemathesis infers.
Throttling is switched off here: a 429 would hide what lies behind it.
"""

import logging
import os
import traceback
from collections import Counter, defaultdict

import pytest
import schemathesis
from django.conf import settings
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, transaction
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.views import APIView
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.generation.stateful import run_state_machine_as_test
from schemathesis.specs.openapi.checks import response_schema_conformance

from ioc.services import API_KEY_SCOPES, api_key_create
from onestop.models import Counter as OneStopCounter
from onestop.models import Office, Procedure
from traffic.models import Camera

pytestmark = pytest.mark.django_db

# Examples per operation and principal (valid and invalid inputs together); people get more than keys.
# IOC_FUZZ_SCALE=10 runs ten times as many, for a longer hunt by hand.
SCALE = int(os.environ.get("IOC_FUZZ_SCALE", "1"))
PEOPLE_EXAMPLES = 12 * SCALE
KEY_EXAMPLES = 4 * SCALE
STATEFUL_EXAMPLES = 8
STATEFUL_STEPS = 6
# Never a server error, and every documented answer (status and body) is what the schema says.
CHECKS = [not_a_server_error, response_schema_conformance]

PRINCIPALS = ["anonymous", "ward_staff", "province_leader", *(f"key:{scope}" for scope in sorted(API_KEY_SCOPES))]

# Every case of the module, by principal, and the statuses answered, for the summary printed at the end.
RUN = Counter()
STATUSES: dict[str, Counter] = defaultdict(Counter)


@pytest.fixture
def app(monkeypatch, settings):
    """The project's own WSGI handler, on the test database's connection (kept open across requests)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    monkeypatch.setattr(APIView, "check_throttles", lambda self, request: None)
    settings.DEBUG_PROPAGATE_EXCEPTIONS = True  # a server error arrives here with its traceback
    quiet = logging.getLogger("django.request")
    level, quiet.level = quiet.level, logging.ERROR  # thousands of 4xx are the point, not news
    yield WSGIHandler()
    quiet.level = level
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def world(city, people, categories, submit):
    """Something of each subsystem to find: a report, a camera, an office with a counter, a procedure."""
    submit()
    camera = Camera.objects.create(code="LK-QL1A-01", name="QL1A", purpose="traffic", unit=city["long_khanh"])
    office = Office.objects.create(unit=city["long_khanh"], name="Bộ phận Một cửa phường Long Khánh")
    Procedure.objects.create(code="1.001193", name="Đăng ký khai sinh", field="Hộ tịch", duration_days=1)
    OneStopCounter.objects.create(office=office, code="LK-MC-01", name="Quầy 1", camera=camera)
    return {"city": city, "people": people}


def credentials_for(principal: str, world) -> tuple[dict[str, str], dict[str, str]]:
    """(headers, cookies) of a principal."""
    cookies = {settings.LANGUAGE_COOKIE_NAME: "en"}
    headers = {}
    if principal.startswith("key:"):
        _key, plain = api_key_create(name=principal, scopes=[principal[4:]], unit=world["city"]["province"])
        headers["Authorization"] = f"Bearer {plain}"
    elif principal != "anonymous":
        user = world["people"]["staff_lk" if principal == "ward_staff" else "leader"]
        client = Client()
        client.force_login(user)
        token = _get_new_csrf_string()
        cookies |= {
            settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value,
            "csrftoken": token,
        }
        headers["X-CSRFToken"] = token
    return headers, cookies


def where(exc: BaseException) -> str:
    """The innermost project frame of a traceback and the exception: the cause of a server error."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/site-packages/" not in f.filename]
    frame = frames[-1] if frames else traceback.extract_tb(exc.__traceback__)[-1]
    return f"{frame.filename.rsplit('/work/main/', 1)[-1]}:{frame.lineno} {type(exc).__name__}: {exc}"[:300]


def exercise(case, credentials, failures, label, principal):
    """Call the app with one case; record a server error (status 5xx or an exception) by its cause."""
    headers, cookies = credentials
    try:
        with transaction.atomic():  # a database error must not spoil the cases after it
            response = case.call(headers=headers, cookies=cookies)
    except Exception as exc:  # DEBUG_PROPAGATE_EXCEPTIONS: the view raised
        failures[where(exc)].append(f"{label}: {case.as_curl_command(headers=headers)}"[:600])
        return None
    try:
        case.validate_response(response, checks=CHECKS, headers=headers)
    except (Exception, BaseExceptionGroup) as exc:  # schemathesis reports failures as an exception group
        failures[f"{label}: {type(exc).__name__}"].append(str(exc)[:600])
    STATUSES[principal][response.status_code] += 1
    return response


def fuzz(operation, examples, principal, credentials, failures):
    """Valid and invalid cases of one operation, from a fixed seed."""
    strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @given(case=strategy)
    @hypothesis_settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        RUN[principal] += 1
        exercise(case, credentials, failures, operation.label, principal)

    run()


@pytest.mark.timeout(600)
@pytest.mark.parametrize("principal", PRINCIPALS)
def test_no_operation_answers_a_server_error(app, world, principal):
    schema = schemathesis.openapi.from_wsgi("/api/schema/", app)
    credentials = credentials_for(principal, world)
    examples = KEY_EXAMPLES if principal.startswith("key:") else PEOPLE_EXAMPLES
    failures: dict[str, list[str]] = defaultdict(list)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40

    for operation in operations:
        fuzz(operation, examples, principal, credentials, failures)
    assert not failures, "\n".join(f"{cause}\n    {cases[0]}" for cause, cases in failures.items())


@pytest.mark.timeout(300)
@pytest.mark.parametrize("principal", ["province_leader", "key:onestop:write"])
def test_stateful_runs_over_linked_operations_answer_no_server_error(app, world, principal):
    schema = schemathesis.openapi.from_wsgi("/api/schema/", app)
    credentials = credentials_for(principal, world)
    failures: dict[str, list[str]] = defaultdict(list)

    class Machine(schema.as_state_machine()):
        def call(self, case, **kwargs):
            RUN[f"stateful {principal}"] += 1
            response = exercise(case, credentials, failures, case.operation.label, f"stateful {principal}")
            if response is None:
                raise AssertionError("\n".join(failures))
            return response

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            pass  # checked in call(), failures collected

    run_state_machine_as_test(
        Machine,
        settings=hypothesis_settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=STATEFUL_STEPS,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        ),
    )
    assert not failures, "\n".join(f"{cause}\n    {cases[0]}" for cause, cases in failures.items())


def test_zz_summary(capsys):
    """Prints how many cases the module ran (read with -s)."""
    with capsys.disabled():
        print(f"\nschemathesis cases: {sum(RUN.values())}")
        for principal, count in RUN.items():
            print(f"  {principal}: {count} cases, statuses {dict(sorted(STATUSES[principal].items()))}")
