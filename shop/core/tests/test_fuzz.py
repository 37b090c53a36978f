"""Schemathesis against /api/schema/ as an anonymous caller, a shopper and staff.

In-process (WSGI), each request in its own transaction as in production (one
failed request must not poison the next). For every operation of the schema, Hypothesis draws
FUZZ_MAX_EXAMPLES schema-valid requests and as many schema-invalid ones; the
draw is derandomized (the same examples on every run, so CI does not flake).
The checks: no 5xx, and every response conforms to the schema (documented
status code, content type, headers and body).

Schemathesis's own pytest plugin is not used: Hypothesis drives its
strategies directly, which keeps this test independent of pytest internals.
"""

import os
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from pytest_django.fixtures import Settings
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from shop.accounts.models import User
from shop.tests.factories import CurrencyFactory, GoodsFactory, SaleFactory, UserFactory

pytestmark = pytest.mark.slow

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "12"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
FUZZ = hypothesis_settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: report the first failing request as drawn
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def api_schema(transactional_db: None, usd: Any, settings: Settings) -> Any:
    # Abuse limits off: they would turn most auth calls into 429s and hide the endpoints behind them.
    for name in [n for n in dir(settings) if n.startswith("THROTTLE_")]:
        setattr(settings, name, "")
    CurrencyFactory(code="EUR", rate="0.92")
    CurrencyFactory(code="JPY", decimals=0, rate="157.5")
    goods = [GoodsFactory(price=f"{10 + i}.00") for i in range(3)]
    SaleFactory(goods=goods[:2])
    return schemathesis.openapi.from_wsgi("/api/schema/", application)


def credentials(role: str) -> dict[str, str]:
    """A bearer token of a live user of that role (the fuzzer may have deleted the last one)."""
    if role == "anonymous":
        return {}
    email = f"fuzz-{role}@example.com"
    user = User.objects.filter(email=email, is_active=True).first()
    if user is None:
        User.objects.filter(email=email).delete()
        user = UserFactory(email=email, is_staff=role == "staff")
    return {"Authorization": f"Bearer {RefreshToken.for_user(user).access_token}"}


def fuzz(schema: Any, role: str) -> tuple[int, list[str]]:
    """Every operation, positive and negative examples; returns (requests made, failures)."""
    made = 0
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            def check(case: Any) -> None:
                nonlocal made
                made += 1
                case.call_and_validate(headers=credentials(role), checks=CHECKS)

            test: Callable[[], None] = FUZZ(given(case=operation.as_strategy(generation_mode=mode))(check))
            try:
                test()
            except (Exception, BaseExceptionGroup) as exc:  # collect every operation's failure, then report
                failures.append(f"{role} {mode.value} {operation.label}:\n{exc}")
    return made, failures


@pytest.mark.parametrize("role", ["anonymous", "shopper", "staff"])
def test_api_conforms_to_its_schema(api_schema: Any, role: str) -> None:
    made, failures = fuzz(api_schema, role)
    print(f"fuzz: {made} requests as {role}")  # the README quotes this figure
    assert not failures, "\n\n".join(failures)
    assert made >= 20 * MAX_EXAMPLES
