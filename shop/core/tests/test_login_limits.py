"""Every password login — the JWT one, the admin's, the browsable API's — counts against one set of
login limits; failed logins are keyed on (e-mail, client address), with a higher cap per e-mail."""

import http.cookiejar
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from shop.accounts.models import User
from shop.accounts.tests.helpers import PASSWORD
from shop.accounts.throttles import MESSAGES
from shop.tests.factories import UserFactory
from shop.tests.live import asgi_server, call, service_env, wait_until

pytestmark = pytest.mark.django_db

OK, FAILED, LIMITED = "ok", "failed", "limited"


def jwt_login(address: str, email: str, password: str) -> Any:
    return APIClient(REMOTE_ADDR=address).post("/auth/jwt/create/", {"email": email, "password": password})


def form_login(path: str, next_path: str) -> Callable[[str, str, str], Any]:
    """A browser's login through a Django form: the page first (its CSRF cookie), then the POST."""

    def login(address: str, email: str, password: str) -> Any:
        browser = Client(enforce_csrf_checks=True, REMOTE_ADDR=address)
        assert browser.get(path).status_code == 200
        form = {
            "username": email,
            "password": password,
            "next": next_path,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"].value,
        }
        return browser.post(path, form)

    return login


LOGINS = {
    "jwt": jwt_login,
    "admin": form_login("/admin/login/", "/admin/"),
    "api-auth": form_login("/api-auth/login/", "/api/"),
}


def outcome(response: Any) -> str:
    """What a login answered: logged in, refused (wrong password), or over a limit."""
    if response.status_code == 429:
        assert response.json() == {"detail": MESSAGES["login"], "code": "rate_limited"}
        assert 1 <= int(response["Retry-After"]) <= 86400
        return LIMITED
    json = response.get("Content-Type") == "application/json"
    if response.status_code == 302 or (response.status_code == 200 and json):
        return OK  # the form logins redirect once logged in; the JWT one answers the tokens
    assert (response.status_code, json) in ((401, True), (200, False)), response.content
    return FAILED  # 401, or the form again with its error


@pytest.fixture
def owner() -> User:
    return UserFactory(is_staff=True)  # staff, so that the admin's login lets them in too


@pytest.mark.parametrize("kind", LOGINS)
def test_each_password_login_is_limited_per_client_address(
    settings: Settings, owner: User, kind: str
) -> None:
    # given: 3 logins a day from one address (a window no test straddles)
    settings.THROTTLE_LOGIN_PER_IP = "3/d"
    login = LOGINS[kind]

    # when: four attempts, right or wrong
    answers = [
        outcome(login("203.0.113.7", owner.email, p)) for p in ("wrong-1", PASSWORD, "wrong-2", PASSWORD)
    ]

    # then: the fourth is refused with 429, Retry-After and the JSON error; another address is not
    assert answers == [FAILED, OK, FAILED, LIMITED]
    assert outcome(login("203.0.113.8", owner.email, PASSWORD)) == OK


def test_the_three_logins_count_against_the_same_limits(settings: Settings, owner: User) -> None:
    # given: 3 failed logins per e-mail and address
    settings.THROTTLE_LOGIN_PER_IP_AND_EMAIL = "3/15m"

    # when: one wrong guess through each login
    guesses = [outcome(login("198.51.100.1", owner.email, "wrong")) for login in LOGINS.values()]

    # then: the guesses add up, whichever login takes the next attempt, even with the right password
    assert guesses == [FAILED] * 3
    for login in LOGINS.values():
        assert outcome(login("198.51.100.1", owner.email.upper(), PASSWORD)) == LIMITED


@pytest.mark.parametrize("kind", LOGINS)
def test_a_successful_login_takes_its_hits_back(settings: Settings, owner: User, kind: str) -> None:
    # given: 2 failed logins per e-mail and address, and per e-mail
    settings.THROTTLE_LOGIN_PER_IP_AND_EMAIL = "2/15m"
    settings.THROTTLE_LOGIN_PER_EMAIL = "2/h"
    login = LOGINS[kind]

    # when: a shopper logs in five times, with one typo on the way
    answers = [outcome(login("192.0.2.1", owner.email, p)) for p in [PASSWORD, "typo", *[PASSWORD] * 4]]

    # then: none counted but the typo
    assert answers == [OK, FAILED, OK, OK, OK, OK]


@pytest.mark.parametrize("kind", LOGINS)
def test_strangers_over_the_email_cap_cannot_lock_the_owner_out(
    settings: Settings, owner: User, kind: str
) -> None:
    # given: 3 failed logins per e-mail from all addresses, the other limits off, and an owner
    # who has logged in from home before
    settings.THROTTLE_LOGIN_PER_IP = settings.THROTTLE_LOGIN_PER_IP_AND_EMAIL = ""
    settings.THROTTLE_LOGIN_PER_EMAIL = "3/h"
    login = LOGINS[kind]
    assert outcome(login("192.0.2.10", owner.email, PASSWORD)) == OK

    # when: strangers spend the cap from three addresses
    guesses = [outcome(login(f"203.0.113.{i}", owner.email, "wrong")) for i in (1, 2, 3)]

    # then: from an address never used by the owner, right and wrong passwords alike are refused
    # (brute force stays impossible, and the answer tells nothing) …
    assert guesses == [FAILED] * 3
    assert outcome(login("203.0.113.4", owner.email, PASSWORD)) == LIMITED
    assert outcome(login("203.0.113.4", owner.email, "wrong")) == LIMITED
    # … while the owner's right password from home still logs in, and a wrong one does not pass
    assert outcome(login("192.0.2.10", owner.email, PASSWORD)) == OK
    assert outcome(login("192.0.2.10", owner.email, "wrong")) == LIMITED


def test_ipv6_clients_are_counted_by_their_64(settings: Settings, owner: User) -> None:
    # given: 3 logins a day per client address
    settings.THROTTLE_LOGIN_PER_IP = "3/d"

    # when: four addresses of one /64 try in turn
    answers = [outcome(jwt_login(f"2001:db8:1:2::{i}", owner.email, PASSWORD)) for i in range(1, 5)]

    # then: they count as one client; the next /64 is another
    assert answers == [OK, OK, OK, LIMITED]
    assert outcome(jwt_login("2001:db8:1:3::1", owner.email, PASSWORD)) == OK


def test_guesses_from_another_address_do_not_lock_the_owner_out(settings: Settings, owner: User) -> None:
    # given: the default limits, 10 failed logins per (e-mail, address) in 15 minutes
    assert settings.THROTTLE_LOGIN_PER_IP_AND_EMAIL == "10/15m"
    assert settings.THROTTLE_LOGIN_PER_EMAIL == "100/h"

    # when: someone guesses the owner's password ten times from one address
    guesses = [outcome(jwt_login("198.51.100.66", owner.email, f"guess-{i}")) for i in range(11)]

    # then: that address is stopped for this account, not for others
    assert guesses == [FAILED] * 10 + [LIMITED]
    assert outcome(jwt_login("198.51.100.66", UserFactory().email, PASSWORD)) == OK
    # and the owner, from their own address, logs in through any of the three logins
    for login in LOGINS.values():
        assert outcome(login("192.0.2.10", owner.email, PASSWORD)) == OK


def test_guesses_spread_over_many_addresses_hit_the_cap_per_email(settings: Settings, owner: User) -> None:
    # given: failed logins capped at 6 an hour per e-mail, from all addresses together
    settings.THROTTLE_LOGIN_PER_EMAIL = "6/h"
    bystander = UserFactory(is_staff=True)

    # when: two guesses each from three addresses, then more, through all three logins
    guesses = [
        outcome(login(f"198.51.100.{i}", owner.email, f"guess-{i}"))
        for i, login in enumerate([*LOGINS.values()] * 2)
    ]
    further = [outcome(login("198.51.100.50", owner.email, "guess")) for login in LOGINS.values()]

    # then: the seventh is refused from anywhere, even for the owner with the right password
    assert guesses == [FAILED] * 6
    assert further == [LIMITED] * 3
    assert outcome(jwt_login("192.0.2.10", owner.email, PASSWORD)) == LIMITED
    # other accounts are untouched
    assert outcome(jwt_login("198.51.100.50", bystander.email, PASSWORD)) == OK


def live_form_login(base: str, path: str, email: str, password: str) -> tuple[int, str, str | None]:
    """A browser's form login against a live server: the page, its CSRF cookie, the POST (no redirects
    followed). Returns the status, the body and Retry-After."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirects())
    with opener.open(f"{base}{path}", timeout=10) as page:
        assert page.status == 200
    token = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    form = urllib.parse.urlencode(
        {"username": email, "password": password, "csrfmiddlewaretoken": token, "next": "/"}
    ).encode()
    request = urllib.request.Request(f"{base}{path}", data=form, headers={"Referer": f"{base}{path}"})  # noqa: S310
    try:
        with opener.open(request, timeout=10) as answer:
            return answer.status, answer.read().decode(), answer.headers["Retry-After"]
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), error.headers["Retry-After"]


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


WINDOW = 15 * 60  # seconds: THROTTLE_LOGIN_PER_IP_AND_EMAIL below


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_three_logins_share_the_limits_on_a_live_server(tmp_path: Path) -> None:
    # given: the ASGI server, 3 failed logins per e-mail and client address
    owner = UserFactory(email="owner@example.com", is_staff=True)
    env = service_env(THROTTLE_LOGIN_PER_IP_AND_EMAIL="3/15m", PRICE_TICKER="off")
    with asgi_server(env, tmp_path / "server.log") as base:
        # the limit counts in clock-aligned 15-minute windows: start well inside one, so the
        # guesses and the refused logins all fall in the same window
        wait_until(lambda: time.time() % WINDOW < WINDOW - 60, timeout=65)
        # when: a wrong guess through each login
        admin = live_form_login(base, "/admin/login/", owner.email, "wrong-1")
        browsable = live_form_login(base, "/api-auth/login/", owner.email, "wrong-2")
        jwt = call(f"{base}/auth/jwt/create/", "POST", body={"email": owner.email, "password": "wrong-3"})
        # then: refused as wrong, and from then on refused as over the limit by each of them
        assert (admin[0], browsable[0], jwt[0]) == (200, 200, 401)
        for path in ("/admin/login/", "/api-auth/login/"):
            status, body, retry_after = live_form_login(base, path, owner.email, PASSWORD)
            assert (status, json.loads(body)) == (429, {"detail": MESSAGES["login"], "code": "rate_limited"})
            assert retry_after is not None and 1 <= int(retry_after) <= 900
        assert call(
            f"{base}/auth/jwt/create/", "POST", body={"email": owner.email, "password": PASSWORD}
        ) == (
            429,
            {"detail": MESSAGES["login"], "code": "rate_limited"},
        )
