"""Where one order's time goes: ``POST /api/orders/`` in this process, through every middleware.

    python bench/orders_profile.py [--goods 10000] [--orders 300] [--top 25] [--seed]

Django's test client sends each order with a real JWT (so authentication, the
user lookup, throttles, idempotency, serialization and the webhooks hook all
run as in production); cProfile records the orders, and the database queries
and Redis commands of one order are counted. ``--seed`` (re)creates the sale
of ``--goods`` goods first; without it an earlier seed of the bench database is
reused.
"""

import argparse
import cProfile
import io
import pstats
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import report, setup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--goods", type=int, default=10_000)
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--seed", action="store_true")
    parser.add_argument("--idempotency", action="store_true", help="send an Idempotency-Key with each order")
    args = parser.parse_args()
    setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from redis.connection import Connection
    from rest_framework_simplejwt.tokens import RefreshToken

    from bench.seed import goods_in_sale
    from shop.accounts.models import User
    from shop.catalog.models import Goods

    settings.ALLOWED_HOSTS = ["*"]
    if args.seed or Goods.objects.count() != args.goods:
        goods_in_sale(args.goods)
    user, _ = User.objects.get_or_create(email="bench@example.com", defaults={"is_active": True})
    token = str(RefreshToken.for_user(user).access_token)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    body = {"items": [{"goods": g, "quantity": 1} for g in (1, args.goods // 2, args.goods)]}
    keys = iter(range(10**9))

    def order() -> None:
        headers = {"HTTP_IDEMPOTENCY_KEY": f"k{time.time_ns()}-{next(keys)}"} if args.idempotency else {}
        response = client.post("/api/orders/", body, content_type="application/json", **headers)
        assert response.status_code == 201, response.content[:300]

    commands: Counter[str] = Counter()
    send = Connection.send_packed_command

    def counting_send(self: Connection, command: object, check_health: bool = True) -> None:
        commands["redis"] += 1
        send(self, command, check_health)

    sql: list[str] = []

    def capture(execute: Any, query: str, params: Any, many: bool, context: Any) -> Any:
        sql.append(query)
        return execute(query, params, many, context)

    for _ in range(20):  # warm up: imports, the connection pool, caches
        order()
    Connection.send_packed_command = counting_send  # type: ignore[method-assign]
    with connection.execute_wrapper(capture):
        order()
    Connection.send_packed_command = send  # type: ignore[method-assign]
    for query in sql:
        print(f"  sql: {' '.join(query.split())[:150]}")
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(args.orders):
        order()
    wall_ms = (time.perf_counter() - start) / args.orders * 1000
    cpu_ms = (time.process_time() - cpu) / args.orders * 1000
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    for _ in range(args.orders):
        order()
    profiler.disable()
    elapsed = time.perf_counter() - start
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(
        r"shop/|rest_framework|simplejwt|django/(middleware|contrib)", args.top
    )
    stats.sort_stats("tottime").print_stats(args.top)
    print(out.getvalue())
    report("orders_profile", goods=args.goods, orders=args.orders, queries=len(sql),
           redis_commands=commands["redis"], wall_ms=wall_ms, cpu_ms=cpu_ms,
           profiled_ms=elapsed / args.orders * 1000)  # fmt: skip


if __name__ == "__main__":
    main()
