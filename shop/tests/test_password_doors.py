"""Every door of the project that checks a password is behind the login limits.

The doors are found, not listed: every URL pattern of the project is called with every
writing method, a JSON body and a form body naming a real account and a wrong password, and
each (path, method, body kind) under which a password was checked (``check_password`` ran)
is a door. Each door is then proved to answer 429 once the limit is over. A route added
later that reaches a password check is found and held to the same rule.
"""

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.cache import cache
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from shop.accounts.models import User
from shop.core.middleware import route_label
from shop.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

WRONG = "not the password 1"
METHODS = ("post", "put", "patch", "delete")
KINDS = ("json", "multipart")
# Doors known today: the walk must find at least these, or it proves nothing.
KNOWN_DOORS = {
    ("/auth/jwt/create/", "post"),
    ("/admin/login/", "post"),
    ("/api-auth/login/", "post"),
    ("/auth/users/set_password/", "post"),
    ("/auth/users/me/", "delete"),
    ("/auth/users/{id}/", "delete"),
}


def _patterns(resolver: URLResolver, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, route)
        elif isinstance(entry, URLPattern):
            yield route, entry.callback


def example_paths(user: User) -> list[tuple[str, str]]:
    """(path with example values, its label) for every URL pattern that such a path resolves
    back to; format-suffix twins (``.json``) are left out, they are the same views."""
    found = {}
    for route, callback in _patterns(get_resolver()):
        if "format" in route:
            continue
        label = route_label(route)
        path = re.sub(r"\{(\w+)\}", lambda m: str(user.pk) if m[1] in ("id", "pk") else "1", label)
        path = "/" + path.lstrip("/")
        try:
            if resolve(path).func is not callback:
                continue
        except Resolver404:
            continue
        found[path] = label
    return sorted(found.items())


def send(client: APIClient, path: str, method: str, kind: str, email: str, password: str) -> Any:
    body = {
        "email": email,
        "username": email,
        "password": password,
        "current_password": password,
        "new_password": "a new password 12345",
        "re_new_password": "a new password 12345",
    }
    return getattr(client, method)(path, body, format=kind, REMOTE_ADDR="198.51.100.20")


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The e-mail of every account whose password was checked, in order."""
    seen: list[str] = []
    original = AbstractBaseUser.check_password

    def check_password(self: AbstractBaseUser, raw_password: str | None) -> bool:
        seen.append(self.get_username())
        return original(self, raw_password)

    monkeypatch.setattr(AbstractBaseUser, "check_password", check_password)
    return seen


def test_every_door_that_checks_a_password_is_limited(settings: Settings, checks: list[str]) -> None:
    # given: a shopper (logged in by token, so the doors for one's own account open too)
    settings.THROTTLE_LOGIN_PER_IP = ""
    settings.THROTTLE_LOGIN_PER_EMAIL = ""
    settings.THROTTLE_LOGIN_PER_IP_AND_EMAIL = "3/15m"
    # Every password here is wrong: a hasher that knows none of the stored hashes answers "wrong"
    # at once, where hashing each guess would cost a third of a second (the doors are found by
    # the check being made, not by its outcome).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user = UserFactory()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")

    # when: every route is called with every writing method and both body kinds
    doors = []
    for path, label in example_paths(user):
        for method in METHODS:
            for kind in KINDS:
                checks.clear()
                send(client, path, method, kind, user.email, WRONG)
                if checks:
                    doors.append((path, label, method, kind))
                cache.clear()  # each door starts with nothing counted

    # then: the walk found every known door …
    assert {(label, method) for _, label, method, _ in doors} >= KNOWN_DOORS, doors
    # … and each of them, however reached, answers 429 with Retry-After once the limit is over
    for path, _, method, kind in doors:
        answers = [send(client, path, method, kind, user.email, WRONG) for _ in range(4)]
        statuses = [a.status_code for a in answers]
        assert statuses[-1] == 429, (path, method, kind, statuses)
        assert answers[-1]["Retry-After"] and answers[-1].json()["code"] == "rate_limited"
        cache.clear()


@pytest.mark.parametrize(
    "path", ["/auth/jwt/create", "/auth/jwt/createX", "/auth/jwt/create/x", "/auth/jwt/"]
)
def test_no_unanchored_path_reaches_the_login(anon: APIClient, checks: list[str], path: str) -> None:
    user = UserFactory()
    response = anon.post(path, {"email": user.email, "password": WRONG}, format="json")
    assert response.status_code in (301, 404)
    assert checks == []
