"""Which server setup serves the shop's HTTP best (SPEC §9, the server choice docs/benchmarks.md records).

    python bench/servers.py [--goods 10000] [--seconds 8] [--concurrency 32]

Side by side in one run, on uvicorn with uvloop, httptools and 2 workers each, loaded in turns
(three rounds) by the same client: the ceiling (``bench/ceiling.py``: a bare Django view answering the same
bytes), the shop through Django's ASGI handler (``bench/asgi_handler.py``), and the shop as it
runs (``manage.py serve``: Django's handler on a pool of threads, ``shop.core.asgi_http``) with
4, 8 and 16 threads, and with 8 threads of a2wsgi's ``WSGIMiddleware`` instead of its own pool
(``bench/http_bridge.py``, on the same server: ``--serve``). Paths: the API root (no database)
and a goods detail. Prints ``bench=servers setup=… path=… ours=… ceiling=… ratio=…`` (requests/s).
"""

import argparse
import os
import sys
import urllib.request
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    CEILING_WORKERS,
    DATABASE_URL,
    ceiling_view,
    free_port,
    report,
    setup,
    started,
    summary_ms,
    uvicorn_argv,
    wait_http,
)
from bench.load import LoadResult, load, merged

ROUNDS = 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--goods", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--serve", metavar="APP", help=argparse.SUPPRESS)  # a setup's server (below)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    setup()
    from bench.seed import goods_in_sale

    goods_in_sale(args.goods)
    paths = ["/api/", f"/api/goods/{args.goods // 2}/"]
    env = {**os.environ, "DATABASE_URL": DATABASE_URL, "PRICE_TICKER": "off", "LOG_LEVEL": "WARNING",
           "WEB_CONCURRENCY": str(CEILING_WORKERS)}  # fmt: skip
    shop = [sys.executable, "manage.py", "serve", "--no-prepare"]
    # the shop as it runs, but its HTTP bridged by a2wsgi's WSGIMiddleware (bench/http_bridge.py)
    a2wsgi = [sys.executable, "bench/servers.py", "--serve", "bench.http_bridge:application"]
    setups = {  # name: (argv, environment); neighbours here are loaded one after the other
        "threads-4": (lambda port: shop, {"WEB_THREADS": "4"}),
        "threads-8": (lambda port: shop, {"WEB_THREADS": "8"}),
        "a2wsgi-8": (lambda port: a2wsgi, {"WEB_THREADS": "8"}),
        "threads-16": (lambda port: shop, {"WEB_THREADS": "16"}),
        "django-asgi-handler": (lambda port: uvicorn_argv("bench.asgi_handler:application", port), {}),
    }
    with ExitStack() as stack:
        bases: dict[str, str] = {}
        for name, (argv, extra) in setups.items():
            port = free_port()
            stack.enter_context(
                started(argv(port), {**env, **extra, "PORT": str(port)}, f"bench-servers-{name}.log")
            )
            bases[name] = f"http://127.0.0.1:{port}"
            wait_http(bases[name] + "/healthz")
        bodies = {path: urllib.request.urlopen(bases["threads-8"] + path).read().decode() for path in paths}  # noqa: S310
        bases["ceiling"] = stack.enter_context(ceiling_view(bodies, name="bench-servers-ceiling"))
        for path in paths:
            results: dict[str, list[LoadResult]] = {name: [] for name in bases}
            for _ in range(ROUNDS):  # in turns, so that the machine's drift hits every setup alike
                for name, base in bases.items():
                    results[name].append(
                        load(base + path, seconds=args.seconds / ROUNDS, concurrency=args.concurrency)
                    )
            ceiling_rate = merged(*results["ceiling"]).rate
            for name, runs in results.items():
                result = merged(*runs)
                report("servers", setup=name, path=path, ours=result.rate, ceiling=ceiling_rate,
                       ratio=f"{result.rate / ceiling_rate:.2f}", statuses=result.statuses,
                       **summary_ms(result.latencies))  # fmt: skip


def serve(app: str) -> None:
    """``manage.py serve --no-prepare``, the same server and options, serving ``app`` instead."""
    import django
    import uvicorn
    from django.core.management import call_command

    run = uvicorn.run
    uvicorn.run = lambda _app, **options: run(app, **options)
    django.setup()
    call_command("serve", "--no-prepare")


if __name__ == "__main__":
    main()
