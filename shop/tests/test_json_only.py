"""Request bodies are JSON only (SPEC §12), and the browsable API still posts them."""

import re
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from shop.accounts.models import User
from shop.tests.factories import GoodsFactory

pytestmark = pytest.mark.django_db


def test_every_request_body_is_json_only(schema: dict[str, Any]) -> None:
    bodies = {
        (path, method): set(operation["requestBody"]["content"])
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    }
    assert len(bodies) > 30
    assert {key: types for key, types in bodies.items() if types != {"application/json"}} == {}


def test_operation_ids_read_well(schema: dict[str, Any]) -> None:
    ids = [op["operationId"] for ops in schema["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    assert {"auth_jwt_create", "auth_jwt_refresh", "cart_checkout", "sales_generate_prices"} <= set(ids)
    assert {"auth_users_activation", "orders_create", "goods_list", "webhooks_deliveries_list"} <= set(ids)
    assert not [i for i in ids if re.search(r"_(create|update)_(create|update)$", i)]


def test_forms_are_refused_with_415(staff: APIClient, usd: Any) -> None:
    body = {"name": "Kettle", "description": "Steel"}
    for fmt in ("multipart",):
        response = staff.post("/api/goods/", body, format=fmt)
        assert response.status_code == 415
        assert response.json()["code"] == "unsupported_media_type"
    encoded = staff.post("/api/goods/", "name=Kettle", content_type="application/x-www-form-urlencoded")
    assert encoded.status_code == 415
    assert staff.post("/api/goods/", body, format="json").status_code == 201


def test_browsable_api_offers_its_raw_json_form(staff_user: User, usd: Any) -> None:
    # given: a staff member logged in to the browsable API (a session, as its login page makes)
    GoodsFactory(price="10.00")
    browser = Client()
    browser.force_login(staff_user)
    # when: the goods list is opened in a browser
    page = browser.get("/api/goods/", HTTP_ACCEPT="text/html").content.decode()
    # then: the raw-data form is there and posts JSON, the only type it offers
    assert 'id="post-generic-content-form"' in page
    offered = re.findall(r'<option value="([^"]+)"[^>]*>\s*[^<]*</option>', page)
    media = {value for value in offered if "/" in value}
    assert media == {"application/json"}
    # and what that form sends (JSON, with the session and CSRF token) creates the goods
    created = browser.post(
        "/api/goods/", {"name": "Kettle", "description": "Steel"}, content_type="application/json"
    )
    assert created.status_code == 201, created.content


@pytest.mark.parametrize("path", ["/auth/users/activation/", "/auth/users/reset_password_confirm/"])
@pytest.mark.parametrize("uid", [-5, 12, [], {}, None, True])
def test_json_uid_that_is_not_text_is_a_field_error(anon: APIClient, path: str, uid: Any) -> None:
    # JSON can carry what a form never could: a number or a list where Djoser expects text
    body = {"uid": uid, "token": "abc", "new_password": "a long new passphrase 42"}
    response = anon.post(path, body)
    assert response.status_code == 400, response.content
    assert "uid" in response.json()
