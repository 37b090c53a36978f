"""Price history at size (SPEC §9-§10): goods detail and one page of history.

    python bench/history.py [--rows 1000000] [--goods 10000] [--requests 200]

Seeds ``rows`` history rows spread over the last days (daily partitions), then
times GET /api/goods/{id}/ and GET /api/prices/?goods={id} in process (Django's
test client: the view, the serializer and PostgreSQL, no network), and prints
the plans of their history queries.
"""

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Timer, report, setup, summary_ms


def seed(rows: int, goods: int) -> None:
    from django.db import connection

    from bench.seed import goods_in_sale
    from shop.catalog.services.history import price_partitions_ensure
    from shop.core.db_store import statement_timeout_lifted

    goods_in_sale(goods)
    per_goods = max(1, rows // goods)
    seconds = per_goods * 5  # one price per goods per 5-second tick, ending now
    with connection.cursor() as cursor:
        cursor.execute("SELECT now() - make_interval(secs => %s)", [seconds])
        since = cursor.fetchone()[0]
    price_partitions_ensure(since=since.date())
    # A million rows in one statement: longer than the web's statement timeout allows.
    with statement_timeout_lifted(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO catalog_price (goods_id, amount, created_at, source, sale_id) "
            "SELECT g, 10 + (n * 7 + g) %% 9000 / 100.0, now() - make_interval(secs => (%s - n) * 5), 'tick', 1 "
            "FROM generate_series(1, %s) AS n, generate_series(1, %s) AS g",
            [per_goods, per_goods, goods],
        )
        cursor.execute("ANALYZE catalog_price")
        cursor.execute("SELECT count(*) FROM catalog_price")
        print(f"seeded {cursor.fetchone()[0]} history rows for {goods} goods", flush=True)


def plan(sql: str, params: list[object]) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--goods", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    seed(args.rows, args.goods)
    client = Client(HTTP_HOST="127.0.0.1")
    rng = random.Random(1)
    for name, url in (("goods_detail", "/api/goods/{}/"), ("history_page", "/api/prices/?goods={}")):
        samples = []
        for _ in range(args.requests):
            with Timer() as t:
                response = client.get(url.format(rng.randint(1, args.goods)))
            assert response.status_code == 200, response.content[:200]
            samples.append(t.seconds)
        report(name, rows=args.rows, requests=args.requests, **summary_ms(samples))
    with CaptureQueriesContext(connection) as queries:
        client.get("/api/goods/1/")
    history_sql = next(q["sql"] for q in queries.captured_queries if "catalog_price" in q["sql"])
    text = plan(history_sql, [])
    scans = "Seq Scan on catalog_price" in text
    report(
        "history_plan", rows=args.rows, uses_index=not scans, queries_per_detail=len(queries.captured_queries)
    )
    print(text)


if __name__ == "__main__":
    main()
