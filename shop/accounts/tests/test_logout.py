"""SPEC §5: ``POST /auth/jwt/blacklist/ {refresh}`` logs out; expired tokens are flushed daily."""

import io
from datetime import timedelta
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from config.celery import app
from shop.accounts.models import User
from shop.accounts.tests.helpers import obtain_tokens
from shop.core.schedules import schedules_ensure

pytestmark = pytest.mark.django_db

BLACKLISTED = {"detail": "Token is blacklisted", "code": "token_not_valid"}


def test_logout_kills_the_refresh_token(anon: APIClient, shopper_user: User) -> None:
    # given: two sessions of one shopper
    session = obtain_tokens(anon, shopper_user.email)
    other = obtain_tokens(anon, shopper_user.email)

    # when
    response = anon.post("/auth/jwt/blacklist/", {"refresh": session["refresh"]}, format="json")

    # then: that refresh token is dead, for refreshing and for logging out again
    assert response.status_code == 200
    assert response.json() == {}
    refreshed = anon.post("/auth/jwt/refresh/", {"refresh": session["refresh"]}, format="json")
    assert (refreshed.status_code, refreshed.json()) == (401, BLACKLISTED)
    again = anon.post("/auth/jwt/blacklist/", {"refresh": session["refresh"]}, format="json")
    assert (again.status_code, again.json()) == (401, BLACKLISTED)
    # and: the other session goes on
    assert anon.post("/auth/jwt/refresh/", {"refresh": other["refresh"]}, format="json").status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "answer"),
    [
        ({"refresh": "garbage"}, 401, {"detail": "Token is invalid", "code": "token_not_valid"}),
        ({"refresh": ""}, 400, {"refresh": ["This field may not be blank."]}),
        ({}, 400, {"refresh": ["This field is required."]}),
    ],
)
def test_logout_refuses_what_is_not_a_refresh_token(
    anon: APIClient, body: dict[str, str], status: int, answer: dict[str, Any]
) -> None:
    response = anon.post("/auth/jwt/blacklist/", body, format="json")

    assert (response.status_code, response.json()) == (status, answer)


def test_logout_refuses_an_access_token(anon: APIClient, shopper_user: User) -> None:
    access = obtain_tokens(anon, shopper_user.email)["access"]

    response = anon.post("/auth/jwt/blacklist/", {"refresh": access}, format="json")

    assert (response.status_code, response.json()) == (
        401,
        {"detail": "Token has wrong type", "code": "token_not_valid"},
    )


def test_the_schema_documents_logout_and_the_sign_up_answer() -> None:
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    schema = yaml.safe_load(out.getvalue())

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        ref = node.get("$ref")
        return schema["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else node

    logout = schema["paths"]["/auth/jwt/blacklist/"]["post"]
    request = resolve(logout["requestBody"]["content"]["application/json"]["schema"])
    assert (request["required"], set(request["properties"])) == (["refresh"], {"refresh"})
    assert logout["responses"]["200"]["content"]["application/json"]["schema"]["properties"] == {}
    assert "401" in logout["responses"]

    sign_up = schema["paths"]["/auth/users/"]["post"]["responses"]["201"]
    answer = resolve(sign_up["content"]["application/json"]["schema"])
    assert set(answer["properties"]) == {"email"}  # no id: it would tell a new account from a taken one


def test_expired_tokens_are_flushed_daily_by_beat(shopper_user: User) -> None:
    # given: the beat schedules, and refresh tokens: one expired (and logged out), one current
    schedules_ensure()
    expired, current = RefreshToken.for_user(shopper_user), RefreshToken.for_user(shopper_user)
    expired.blacklist()
    OutstandingToken.objects.filter(jti=expired["jti"]).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )

    # then: beat runs the flush once a day
    scheduled = PeriodicTask.objects.get(name="expired tokens")
    assert (scheduled.task, scheduled.interval.every, scheduled.interval.period, scheduled.enabled) == (
        "accounts.flush_expired_tokens",
        86400,
        "seconds",
        True,
    )
    app.loader.import_default_modules()  # what a worker does at start: the tasks of every app

    # when: the task beat names runs (here, in this process)
    app.tasks[scheduled.task].apply().get()

    # then: the expired token and its blacklist row are gone; the current one stays
    assert list(OutstandingToken.objects.values_list("jti", flat=True)) == [current["jti"]]
    assert not BlacklistedToken.objects.exists()
