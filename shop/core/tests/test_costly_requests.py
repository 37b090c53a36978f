"""No request may cost the database or the web threads more than it should: searches and
orderings are bounded, statements time out (503 ``too_slow``), JIT is off, the schema is
generated once, and heavy history reads are limited per address."""

import subprocess
import sys

import pytest
from django.db import connection
from drf_spectacular.generators import SchemaGenerator
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from shop.catalog.models import Goods
from shop.core.db_store import statistics_refresh
from shop.core.errors import TOO_SLOW
from shop.core.search import ORDERING_TOO_LONG, SEARCH_TOO_LONG
from shop.tests.factories import GoodsFactory
from shop.tests.live import ROOT, service_env

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("query", "code", "message"),
    [
        ("search=" + ",".join(["e"] * 11), "search_too_long", SEARCH_TOO_LONG),
        ("search=" + ",".join(["e"] * 3500), "search_too_long", SEARCH_TOO_LONG),
        ("search=" + "e" * 201, "search_too_long", SEARCH_TOO_LONG),
        ("ordering=" + ",".join(["name"] * 6), "ordering_too_long", ORDERING_TOO_LONG),
        ("ordering=" + ",".join(["name"] * 3500), "ordering_too_long", ORDERING_TOO_LONG),
    ],
)
@pytest.mark.parametrize("path", ["/api/goods/", "/api/sales/", "/api/currency/"])
def test_searches_and_orderings_are_bounded(
    anon: APIClient, settings: Settings, path: str, query: str, code: str, message: str
) -> None:
    response = anon.get(f"{path}?{query}")
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert response.json()["detail"] == message.format(
        terms=settings.SEARCH_MAX_TERMS,
        length=settings.SEARCH_MAX_LENGTH,
        fields=settings.ORDERING_MAX_FIELDS,
    )


def test_a_search_within_the_bounds_is_served(anon: APIClient, usd: object) -> None:
    GoodsFactory(name="red chair"), GoodsFactory(name="blue table")
    response = anon.get("/api/goods/?search=" + ",".join(["chair"] * 10) + "&ordering=name,-id")
    assert response.status_code == 200
    assert [g["name"] for g in response.json()["results"]] == ["red chair"]


def test_the_schema_says_how_long_a_search_may_be(schema: dict, settings: Settings) -> None:
    [search] = [p for p in schema["paths"]["/api/goods/"]["get"]["parameters"] if p["name"] == "search"]
    assert search["schema"]["maxLength"] == settings.SEARCH_MAX_LENGTH


def test_a_statement_past_its_timeout_is_a_503(anon: APIClient) -> None:
    # given: many goods, and a statement timeout far below what a search of them costs
    Goods.objects.bulk_create([Goods(name=f"Goods {i}", description="x" * 200) for i in range(5000)])
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = '1ms'")
    # when
    response = anon.get("/api/goods/?search=" + ",".join(["zz", "yy", "xx", "ww", "vv"]))
    # then: a clear, retryable answer, not a 500
    assert response.status_code == 503
    assert response.json() == {"detail": TOO_SLOW, "code": "too_slow"}


def test_the_shops_connections_run_without_jit_and_with_a_statement_timeout() -> None:
    # The settings as a server process has them (this test process lifts the timeout for itself).
    script = (
        "import django; django.setup(); from django.db import connection\n"
        "with connection.cursor() as c:\n"
        "    c.execute('SHOW jit'); jit = c.fetchone()[0]\n"
        "    c.execute('SHOW statement_timeout'); timeout = c.fetchone()[0]\n"
        "print(jit, timeout)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=service_env(DJANGO_SETTINGS_MODULE="config.settings"),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.split() == ["off", "5s"]


def test_the_schema_is_generated_once(anon: APIClient, monkeypatch: pytest.MonkeyPatch) -> None:
    generated = []
    original = SchemaGenerator.get_schema

    def counted(self: SchemaGenerator, *args: object, **kwargs: object) -> dict:
        generated.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SchemaGenerator, "get_schema", counted)
    from shop.core.views import SchemaView

    monkeypatch.setattr(SchemaView, "_rendered", {})
    answers = [anon.get("/api/schema/", {"junk": str(i)}) for i in range(5)]
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1
    assert answers[0]["Content-Type"].startswith("application/vnd.oai.openapi")
    assert len(generated) == 1
    as_json = anon.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert as_json.json()["openapi"].startswith("3.")
    assert len(generated) == 2  # one more format, generated once too


def test_candles_are_limited_per_address(anon: APIClient, settings: Settings, usd: object) -> None:
    settings.THROTTLE_HEAVY_READS_PER_IP = "2/m"
    goods = GoodsFactory(price="1.00")
    answers = [anon.get(f"/api/goods/{goods.id}/candles/", REMOTE_ADDR="198.51.100.9") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[-1]["Retry-After"]
    assert anon.get(f"/api/goods/{goods.id}/candles/", REMOTE_ADDR="198.51.100.10").status_code == 200


def test_prepare_and_imports_leave_fresh_statistics() -> None:
    # given: goods never analyzed
    Goods.objects.bulk_create([Goods(name=f"Goods {i}") for i in range(300)])
    # when: statistics are refreshed, as prepare and the admin's import do
    statistics_refresh(tables=[Goods._meta.db_table])
    # then: the planner knows the table's size
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [Goods._meta.db_table])
        assert cursor.fetchone()[0] == 300
