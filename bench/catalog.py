"""Catalog import through the API (SPEC §9): 10,000 goods created with bulk POSTs, then their sale.

    python bench/catalog.py [--goods 10000] [--batch 1000]

Starts the ASGI server (``manage.py serve``) on the bench database and posts
lists of ``--batch`` goods as staff, one after another, like an import script
would; then creates one sale of all of them. Prints the wall time of each part.
"""

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Timer, report, server, setup


def post(url: str, token: str, body: object) -> object:
    request = urllib.request.Request(  # noqa: S310 - the local bench server
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
            return json.load(response)
    except urllib.error.HTTPError as error:
        raise SystemExit(f"{url}: {error.code} {error.read()[:500]!r}") from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--goods", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    setup()
    from rest_framework_simplejwt.tokens import RefreshToken

    from bench.seed import demo_currencies
    from shop.accounts.models import User

    demo_currencies()
    # a superuser: the API checks staff's model permissions (shop.core.permissions)
    staff, _ = User.objects.update_or_create(
        email="bench-staff@example.com", defaults={"is_active": True, "is_staff": True, "is_superuser": True}
    )
    token = str(RefreshToken.for_user(staff).access_token)
    stamp = int(time.time())
    with server(workers=1, log_name="bench-catalog-server.log") as port:
        base = f"http://127.0.0.1:{port}"
        ids: list[int] = []
        with Timer() as goods_time:
            for start in range(0, args.goods, args.batch):
                rows = [
                    {"name": f"Import {stamp}-{i}"} for i in range(start, min(start + args.batch, args.goods))
                ]
                created = post(f"{base}/api/goods/", token, rows)
                assert isinstance(created, list) and len(created) == len(rows)
                ids += [goods["id"] for goods in created]
        with Timer() as sale_time:
            sale = {"name": f"Import {stamp}", "min_price": "1.00", "max_price": "99.99", "goods": ids}
            post(f"{base}/api/sales/", token, sale)
    report("catalog_bulk_create", goods=len(ids), batch=args.batch, seconds=goods_time.seconds,
           goods_per_s=len(ids) / goods_time.seconds, sale_seconds=sale_time.seconds)  # fmt: skip


if __name__ == "__main__":
    main()
