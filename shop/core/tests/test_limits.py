"""Abuse limits on the account endpoints (per address, per e-mail) and on request bodies."""

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.test import override_settings
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from shop.accounts.tests.helpers import PASSWORD
from shop.accounts.throttles import MESSAGES
from shop.core.asgi import TOO_LARGE, BodySizeLimit
from shop.core.errors import RateLimited
from shop.core.throttling import Rate, address_key, throttle_hit
from shop.tests.factories import GoodsFactory, SaleFactory, UserFactory


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("30/m", Rate(30, 60)),
        ("10/15m", Rate(10, 900)),
        ("3/hour", Rate(3, 3600)),
        ("5 / 2d", Rate(5, 172800)),
        ("1/s", Rate(1, 1)),
        ("", None),
        ("0/m", None),
    ],
)
def test_rates_are_read_from_settings_text(text: str, rate: Rate | None) -> None:
    assert Rate.parse(text) == rate


def test_a_malformed_rate_is_an_error() -> None:
    with pytest.raises(ValueError, match="not a rate"):
        Rate.parse("ten a minute")


def client_from(address: str) -> APIClient:
    return APIClient(REMOTE_ADDR=address)


def assert_throttled(response: Any, message: str, window: int) -> None:
    assert response.status_code == 429
    assert response.json() == {"detail": message, "code": "rate_limited"}
    assert 1 <= int(response["Retry-After"]) <= window


@pytest.mark.django_db
def test_login_is_limited_per_address(settings: Settings) -> None:
    # given: 3 logins a day from one address (a window no test straddles)
    settings.THROTTLE_LOGIN_PER_IP = "3/d"
    user = UserFactory()
    attacker = client_from("203.0.113.7")
    # when: four attempts, right or wrong
    answers = [
        attacker.post("/auth/jwt/create/", {"email": user.email, "password": password})
        for password in ("wrong-1", "wrong-2", PASSWORD, PASSWORD)
    ]
    # then: the fourth is refused; another address is not
    assert [a.status_code for a in answers[:3]] == [401, 401, 200]
    assert_throttled(answers[3], MESSAGES["login"], 86400)
    other = client_from("203.0.113.8").post("/auth/jwt/create/", {"email": user.email, "password": PASSWORD})
    assert other.status_code == 200


@pytest.mark.django_db
def test_failed_logins_are_capped_per_email_from_any_address(settings: Settings) -> None:
    # given: 3 failed logins per e-mail address per 15 minutes, from all client addresses together
    # (test_login_limits.py: the lower limit per e-mail and client address, and the three logins)
    settings.THROTTLE_LOGIN_PER_EMAIL = "3/15m"
    user, bystander = UserFactory(), UserFactory()
    # when: a guesser spreads wrong passwords over many addresses, in any case of the address
    answers = [
        client_from(f"198.51.100.{i}").post("/auth/jwt/create/", {"email": email, "password": f"guess-{i}"})
        for i, email in enumerate([user.email, user.email.upper(), user.email, user.email])
    ]
    # then: the fourth is refused, even with the right password; other accounts are untouched
    assert [a.status_code for a in answers[:3]] == [401, 401, 401]
    assert_throttled(answers[3], MESSAGES["login"], 900)
    right = client_from("198.51.100.99").post(
        "/auth/jwt/create/", {"email": user.email, "password": PASSWORD}
    )
    assert right.status_code == 429
    ok = client_from("198.51.100.99").post(
        "/auth/jwt/create/", {"email": bystander.email, "password": PASSWORD}
    )
    assert ok.status_code == 200


@pytest.mark.django_db
def test_a_successful_login_does_not_count_against_its_address(settings: Settings) -> None:
    settings.THROTTLE_LOGIN_PER_EMAIL = "2/15m"
    settings.THROTTLE_LOGIN_PER_IP_AND_EMAIL = "2/15m"
    user = UserFactory()
    shopper = client_from("192.0.2.1")
    statuses = [
        shopper.post("/auth/jwt/create/", {"email": user.email, "password": PASSWORD}).status_code
        for _ in range(5)
    ]
    assert statuses == [200] * 5


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "action", "body"),
    [
        ("/auth/users/", "register", lambda email: {"email": email, "password": "x", "re_password": "y"}),
        ("/auth/users/reset_password/", "password_reset", lambda email: {"email": email}),
        ("/auth/users/resend_activation/", "activation_resend", lambda email: {"email": email}),
    ],
)
def test_sign_up_and_account_mails_are_limited_per_address_and_per_email(
    settings: Settings, path: str, action: str, body: Any
) -> None:
    setting = f"THROTTLE_{action.upper()}"
    setattr(settings, f"{setting}_PER_IP", "4/h")
    setattr(settings, f"{setting}_PER_EMAIL", "2/h")
    # per e-mail: the third request naming one address is refused, from wherever it comes
    first = [
        client_from(f"192.0.2.{i}").post(path, body("victim@example.com"), format="json") for i in range(3)
    ]
    assert all(r.status_code != 429 for r in first[:2])
    assert_throttled(first[2], MESSAGES[action], 3600)
    # per client address: the fifth request from one address is refused, whatever it names
    spammer = client_from("192.0.2.200")
    answers = [spammer.post(path, body(f"someone{i}@example.com"), format="json") for i in range(5)]
    assert all(r.status_code != 429 for r in answers[:4])
    assert_throttled(answers[4], MESSAGES[action], 3600)


def test_the_counter_is_atomic_under_concurrency(settings: Settings) -> None:
    # given: 10 a day (no window ends during the test), counted in Redis (the test settings' cache)
    settings.THROTTLE_LOGIN_PER_IP = "10/d"

    def hit(_: int) -> bool:
        try:
            throttle_hit(
                scope="login:ip", ident="10.9.8.7", setting="THROTTLE_LOGIN_PER_IP", message="slow down"
            )
        except RateLimited:
            return False
        return True

    # when: 60 hits at once from 12 threads
    with ThreadPoolExecutor(12) as pool:
        allowed = list(pool.map(hit, range(60)))
    # then: exactly 10 got through
    assert allowed.count(True) == 10


DEAD_REDIS = {
    "default": {
        "BACKEND": "shop.core.redis_cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


def test_when_redis_does_not_answer_limits_count_in_the_process(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    # given: 2 logins a minute per address, and a cache that does not answer
    settings.THROTTLE_LOGIN_PER_IP = "2/m"
    with override_settings(CACHES=DEAD_REDIS):
        # when: three hits from one address, one from another
        def hit(ident: str) -> RateLimited | None:
            try:
                throttle_hit(scope="login:ip", ident=ident, setting="THROTTLE_LOGIN_PER_IP", message="x")
            except RateLimited as limited:
                return limited
            return None

        answers = [hit("10.0.0.1") for _ in range(3)]
        other = hit("10.0.0.2")
    # then: neither open nor closed: the limit holds, counted in this process, and says so
    assert answers[:2] == [None, None] and other is None
    assert answers[2] is not None and 1 <= answers[2].retry_after <= 60
    assert "counted in this process only" in caplog.text


@pytest.mark.django_db
def test_when_redis_does_not_answer_orders_go_on_within_their_limit(
    settings: Settings, shopper: APIClient, usd: Any
) -> None:
    # given: 2 orders a minute per shopper, and a cache that does not answer
    settings.THROTTLE_ORDERS_PER_USER = "2/m"
    goods = GoodsFactory(price="1.00")
    order = {"items": [{"goods": goods.id, "quantity": 1}]}
    with override_settings(CACHES=DEAD_REDIS):
        # when
        statuses = [shopper.post("/api/orders/", order, format="json").status_code for _ in range(3)]
    # then: orders are placed, and the third is over the limit as it would be with Redis
    assert statuses == [201, 201, 429]


@pytest.mark.django_db
def test_when_redis_does_not_answer_price_generation_keeps_its_interval(staff: APIClient, usd: Any) -> None:
    # given: a running sale, and a cache that does not answer
    sale = SaleFactory(goods=[GoodsFactory(price="1.00")])
    url = f"/api/sales/{sale.id}/generate-prices/"
    with override_settings(CACHES=DEAD_REDIS):
        # when: two generations in a row
        first, second = staff.put(url), staff.put(url)
    # then: the first generates, the second waits for the interval, as with Redis
    assert first.status_code == 200
    assert (second.status_code, second.json()["code"]) == (429, "rate_limited")
    assert 1 <= int(second["Retry-After"]) <= 5


# --- request bodies --------------------------------------------------------------------------


async def call_asgi(
    app: Any, headers: list[tuple[bytes, bytes]], chunks: list[bytes]
) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    pending = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)
    ]

    async def receive() -> dict[str, Any]:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/auth/jwt/create/", "headers": headers}
    await app(scope, receive, send)
    return sent


class EchoLength:
    """An inner app that reads the whole body and answers its length (as Django would read it)."""

    called = False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.called = True
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # Django: RequestAborted, no answer
            size += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(size).encode()})


def test_a_declared_oversized_body_is_refused_unread() -> None:
    inner = EchoLength()
    sent = asyncio.run(call_asgi(BodySizeLimit(inner, 100), [(b"content-length", b"101")], [b"x" * 101]))
    assert not inner.called
    assert sent[0]["status"] == 413
    assert (b"content-type", b"application/json") in sent[0]["headers"]
    assert json.loads(sent[1]["body"]) == {"detail": TOO_LARGE.format(limit=100), "code": "too_large"}


def test_a_streamed_body_growing_past_the_limit_is_refused() -> None:
    inner = EchoLength()
    sent = asyncio.run(call_asgi(BodySizeLimit(inner, 100), [], [b"x" * 60, b"x" * 60]))
    assert inner.called
    assert [m.get("status") for m in sent if m["type"] == "http.response.start"] == [413]


def test_a_body_within_the_limit_passes() -> None:
    inner = EchoLength()
    sent = asyncio.run(
        call_asgi(BodySizeLimit(inner, 100), [(b"content-length", b"100")], [b"x" * 50, b"x" * 50])
    )
    assert (sent[0]["status"], sent[1]["body"]) == (200, b"100")


def test_a_mistyped_limit_is_refused_at_start_up(settings: Settings) -> None:
    from django.core.checks import run_checks

    settings.THROTTLE_LOGIN_PER_IP = "thirty a minute"
    errors = [e for e in run_checks() if e.id == "shop.E001"]
    assert [e.msg for e in errors] == [
        "THROTTLE_LOGIN_PER_IP: not a rate: 'thirty a minute' (use N/period, e.g. 30/m, 10/15m, 3/h)"
    ]


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2::1", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("", "unknown"),
        ("unix-socket", "unix-socket"),
    ],
)
def test_limits_count_an_ipv6_client_by_its_64(address: str, key: str) -> None:
    assert address_key(address) == key
