"""Whatever a query parameter holds, the answer is no 5xx, and an error is a JSON object.

A property test over the OpenAPI schema (SPEC §6: every input is checked before it reaches
a query). For each query parameter of each GET operation the schema documents, Hypothesis
sends arbitrary text through Django's test client, as an anonymous caller and as staff:
unicode, NUL, huge and signed numbers and exponents, date-times with any UTC offset,
cursors with any position, strings of a few KB. It runs in-process in well under a minute,
beside test_fuzz.py (Schemathesis against a live server, slow); it would have found
``?offset=9223372036854775808`` and ``?cursor=`` of ``p=garbage`` (issue 20).

``FUZZ_RANDOM=1`` draws new examples; by default each parameter gets the same ones on every
run (a seed of its own, so that the parameters do not all get the same values).
"""

import os
import re
import zlib
from base64 import b64encode
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from shop.core.ids import MAX_ID
from shop.tests.factories import GoodsFactory, SaleFactory
from shop.webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db

EXAMPLES = 30  # per parameter and caller, besides FOUND
RANDOM = bool(os.environ.get("FUZZ_RANDOM"))
NUMBERS = st.one_of(
    st.integers().map(str),  # up to 128 bits and more
    st.integers(min_value=MAX_ID - 2, max_value=MAX_ID + 2).map(str),  # a bigint's edge
    st.floats().map(str),
    st.sampled_from(["-0", "+1", "1e3", "-1e99999999", "1_000", " 1", "٣", "0x10", "NaN", "9" * 5000]),
)


def in_offset(moment: datetime, minutes: int, separator: str) -> str:
    return moment.replace(tzinfo=timezone(timedelta(minutes=minutes))).isoformat(separator)


# Python takes UTC offsets up to ±23:59, PostgreSQL up to ±15:59
DATE_TIMES = st.builds(
    in_offset,
    st.datetimes(),
    st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1),
    st.sampled_from("T "),
)
# DRF's cursors: base64 of a query string, o (offset) r (reverse) p (position); the position
# is the one that reaches the query, so most have a valid o and r and any p.
CURSORS = st.one_of(
    st.fixed_dictionaries(
        {"p": st.one_of(st.text(max_size=30), NUMBERS, DATE_TIMES)},
        optional={"o": st.integers(min_value=0, max_value=2000).map(str), "r": st.sampled_from(["0", "1"])},
    ).map(lambda tokens: b64encode(urlencode(tokens).encode()).decode()),
    st.binary(max_size=60).map(lambda raw: b64encode(raw).decode()),
)
VALUES = st.one_of(
    st.text(max_size=40),  # unicode, NUL included
    st.text(min_size=1000, max_size=4000),
    NUMBERS,
    NUMBERS,  # twice as likely: most parameters that matter are numbers
    DATE_TIMES,
    CURSORS,
)
# What the fuzz test and issue 20 found, tried on every parameter.
FOUND = [
    "9223372036854775808",
    "99999999999999999999999",
    "-1e99999999",
    "cD1nYXJiYWdl",  # a cursor: p=garbage
    "cD0yMDI2LTAxLTAxVDAwOjAwOjAwLTE5OjI4",  # a cursor: p=2026-01-01T00:00:00-19:28
    "2026-01-01T00:00:00-19:28",
    "0001-01-01T00:00:00+05:00",
    "\x00",
    "",
]


@pytest.fixture
def path_values(usd: Any, staff_user: Any) -> dict[str, str]:
    """A value of each path's parameters by resource, naming objects that exist, so that
    the query parameters are what gets checked (a missing object is a 404 before them)."""
    goods = GoodsFactory(price="1.00")
    sale = SaleFactory(goods=[goods])
    endpoint = WebhookEndpoint.objects.create(
        url="https://93.184.215.14/hooks", events=["order.created"], secret="s"
    )
    return {
        "currency": "USD",
        "goods": str(goods.id),
        "prices": str(goods.current_price_id),
        "sales": str(sale.id),
        "webhooks": str(endpoint.id),
        "users": str(staff_user.id),
    }


def query_parameters(schema: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (path, parameter["name"])
        for path, operations in schema["paths"].items()
        for parameter in operations.get("get", {}).get("parameters", [])
        if parameter["in"] == "query"
    ]


def concrete(path: str, path_values: dict[str, str]) -> str:
    if "{" not in path:
        return path
    resource = path.split("/")[2]  # /api/<resource>/..., /auth/<resource>/...
    assert resource in path_values, f"{path}: give path_values an object of {resource!r}"
    return re.sub(r"\{\w+\}", path_values[resource], path)


def get(client: APIClient, path: str, query: dict[str, str]) -> Any:
    # GETs change nothing; rolling each back keeps one database error from spoiling the next ones
    savepoint = transaction.savepoint()
    try:
        return client.get(path, query)
    finally:
        transaction.savepoint_rollback(savepoint)


def assert_answers_cleanly(client: APIClient, caller: str, path: str, name: str, value: str) -> None:
    response = get(client, path, {name: value})
    where = f"GET {path}?{name}={value[:200]!r} as {caller}: {response.status_code}"
    assert response.status_code < 500, f"{where} {response.content[:500]!r}"
    assert response["Content-Type"].startswith("application/json"), where
    body = response.json()
    if response.status_code >= 400:
        assert isinstance(body, dict) and body, f"{where} {body!r}"


@pytest.mark.parametrize("caller", ["anon", "staff"])
def test_no_query_parameter_value_gives_a_5xx_or_an_error_that_is_not_json(
    request: pytest.FixtureRequest, caller: str, path_values: dict[str, str], schema: dict[str, Any]
) -> None:
    client: APIClient = request.getfixturevalue(caller)
    parameters = query_parameters(schema)
    assert {("/api/goods/", "offset"), ("/api/prices/", "cursor"), ("/api/prices/", "since")} <= set(
        parameters
    )

    for template, name in parameters:
        path = concrete(template, path_values)
        for value in FOUND:
            assert_answers_cleanly(client, caller, path, name, value)
        if get(client, path, {}).status_code in (401, 403):
            continue  # refused before any parameter is read (staff only): FOUND was enough

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,  # no .hypothesis/ in the work tree
            suppress_health_check=[
                HealthCheck.too_slow,
                HealthCheck.data_too_large,
                HealthCheck.large_base_example,
            ],
        )
        @given(value=VALUES)
        def answers_cleanly(value: str) -> None:
            assert_answers_cleanly(client, caller, path, name, value)  # noqa: B023 - called in this iteration

        if not RANDOM:
            answers_cleanly = seed(zlib.crc32(f"{caller} {template} {name}".encode()))(answers_cleanly)
        answers_cleanly()
