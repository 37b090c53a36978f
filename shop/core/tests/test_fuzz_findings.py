"""What the fuzz test (test_fuzz.py) found, pinned down one by one."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from shop.core.filters import DATETIME_OUT_OF_RANGE
from shop.tests.factories import CurrencyFactory, GoodsFactory

pytestmark = pytest.mark.django_db


def test_a_utc_offset_postgresql_refuses_is_no_500(anon: APIClient, usd: Any) -> None:
    # was: 500 "time zone displacement out of range" (Python allows ±23:59, PostgreSQL ±15:59)
    GoodsFactory(price="1.00")
    response = anon.get("/api/prices/", {"since": "2026-01-01T00:00:00-19:28"})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


def test_a_date_time_that_overflows_in_utc_is_400(anon: APIClient) -> None:
    response = anon.get("/api/prices/", {"until": "0001-01-01T00:00:00+05:00"})
    assert response.status_code == 400
    assert response.json() == {"until": [DATETIME_OUT_OF_RANGE]}


def test_a_bare_list_of_errors_becomes_detail_and_code(staff: APIClient, usd: Any) -> None:
    # was: 400 ["Null characters are not allowed."] (the search filter), not an object
    CurrencyFactory(code="EUR", rate="0.92")
    response = staff.post("/api/currency/EUR/rates/?search=%00", {"rate": "0.93"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Null characters are not allowed.",
        "code": "null_characters_not_allowed",
    }


def test_rates_are_documented_as_the_strings_they_are(schema: dict[str, Any]) -> None:
    # was: {"type": "number"} while the API sends "0.92"
    components = schema["components"]["schemas"]
    for field in (
        components["Currency"]["properties"]["rate"],
        components["CartQuote"]["properties"]["exchange_rate"],
    ):
        assert field["type"] == "string"


def test_sign_up_does_not_promise_re_password_back(schema: dict[str, Any]) -> None:
    created = schema["paths"]["/auth/users/"]["post"]["responses"]["201"]["content"]["application/json"][
        "schema"
    ]
    name = created["$ref"].rsplit("/", 1)[1]
    assert "re_password" not in schema["components"]["schemas"][name]["properties"]


@pytest.mark.parametrize(
    "path",
    [
        "/auth/users/activation/",
        "/auth/users/resend_activation/",
        "/auth/users/reset_password/",
        "/auth/users/reset_password_confirm/",
        "/auth/users/set_password/",
    ],
)
def test_account_actions_are_documented_as_204(schema: dict[str, Any], path: str) -> None:
    # was: 200 documented, 204 sent
    responses = schema["paths"][path]["post"]["responses"]
    assert "204" in responses
    assert "200" not in responses


def test_every_operation_documents_its_common_errors(schema: dict[str, Any]) -> None:
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"401", "503"} <= set(responses), (method, path)
            if method in ("post", "put", "patch", "delete"):
                assert {"400", "403"} <= set(responses), (method, path)
    login = schema["paths"]["/auth/jwt/create/"]["post"]["responses"]["429"]
    assert "Retry-After" in login["headers"]
