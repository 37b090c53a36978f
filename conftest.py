"""Fixtures shared by every test: API clients for the three kinds of caller."""

import io
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connections
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from shop.accounts.models import User
from shop.core.throttling import process_counters
from shop.tests.factories import CurrencyFactory, UserFactory
from shop.tests.live import RedisProcess


def pytest_configure_node(node: Any) -> None:
    """Gives each pytest-xdist worker what no two may share, before it reads Django's settings
    (pytest-django already gives each its own PostgreSQL database): worker ``gwN`` takes Redis
    database ``base - N`` of ``REDIS_URL`` and ``var/test-gwN`` as VAR_DIR (the metrics' files,
    embedded mode's files, the installation's key). The live servers and Celery processes a test starts inherit the
    worker's environment, so they follow."""
    worker = node.workerinput["workerid"]
    var = Path(__file__).resolve().parent / "var" / f"test-{worker}"
    # The metrics' directory too: this process's settings have exported theirs (config/settings/operations.py).
    env = {"VAR_DIR": str(var), "PROMETHEUS_MULTIPROC_DIR": str(var / "metrics")}
    url = os.environ.get("REDIS_URL")
    if url:
        parts = urlsplit(url)
        number = int(parts.path.strip("/") or 0) - int(worker.removeprefix("gw"))
        if number < 0:
            raise pytest.UsageError(f"REDIS_URL {url} leaves no Redis database for xdist worker {worker}")
        env["REDIS_URL"] = parts._replace(path=f"/{number}").geturl()
    node.gateway.remote_exec(f"import os; os.environ.update({env!r})").waitclose()


def bearer(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """This process's own connections run without the shop's statement timeout: creating,
    migrating and flushing the test databases on a loaded machine may take longer than a web
    request may. The servers and workers a test starts keep the shop's settings."""
    options = settings.DATABASES["default"].get("OPTIONS", {})
    if "options" in options:
        options["options"] = re.sub(r"statement_timeout=\d+", "statement_timeout=0", options["options"])


@pytest.fixture(autouse=True)
def _clean_cache() -> None:
    cache.clear()
    process_counters.clear()  # the limiter's own, used while Redis is down


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


@pytest.fixture
def shopper_user(db: None) -> User:
    return UserFactory()


@pytest.fixture
def staff_user(db: None) -> User:
    return UserFactory(is_staff=True)


@pytest.fixture
def shopper(shopper_user: User) -> APIClient:
    return bearer(shopper_user)


@pytest.fixture
def staff(staff_user: User) -> APIClient:
    return bearer(staff_user)


@pytest.fixture
def usd(db: None):
    return CurrencyFactory(code="USD", name="US Dollar", symbol="$", decimals=2)


@pytest.fixture(scope="session")
def schema(django_db_blocker: Any) -> dict[str, Any]:
    """The OpenAPI schema, generated once; ``--validate`` checks it against OpenAPI 3 on the way."""
    out = io.StringIO()
    with django_db_blocker.unblock():
        call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    schema: dict[str, Any] = yaml.safe_load(out.getvalue())
    return schema


@pytest.fixture(scope="session", autouse=True)
def _close_pool_before_teardown(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """Threads of the tests borrow pooled connections; return them all before the
    test database is dropped."""
    yield
    with django_db_blocker.unblock():
        for conn in connections.all():
            if hasattr(conn, "close_pool"):
                conn.close_pool()


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisProcess]:
    """A private redis-server on a free port, for tests that stop and start it."""
    server = RedisProcess(tmp_path / "redis.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def celery_eager() -> Iterator[None]:
    """Tasks run in the caller, at once (unit tests of what a task does; the live tests use a worker)."""
    from config.celery import app

    saved = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture
def superuser(db: None) -> Client:
    """A browser session of a superuser: the admin's pages and forms."""
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def mailed(
    settings: Any, celery_eager: None, mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> Any:
    """``mailed(call)``: run a call and its after-commit callbacks, the e-mails through their
    (eager) tasks; the outbox so far."""
    settings.EMAIL_DELIVERY = "celery"

    def run(call: Any) -> list[Any]:
        with django_capture_on_commit_callbacks(execute=True):
            call()
        return mailoutbox

    return run


@pytest.fixture
def announced(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The stock levels announced (StockEvent.CHANGED, StockRow each) once their transactions commit."""
    from shop.core import events

    rows: list[Any] = []
    listeners = [
        *events._listeners.get(events.StockEvent.CHANGED, []),
        lambda kind, changed: rows.extend(changed),
    ]
    monkeypatch.setitem(events._listeners, events.StockEvent.CHANGED, listeners)
    return rows
