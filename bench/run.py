"""Run every benchmark of SPEC §9 and print their figures.

    python bench/run.py          # quick sizes: a few minutes
    python bench/run.py --full   # the sizes of SPEC §9 (10,000,000 history rows, 100,000-goods ticks, ...)

Each benchmark runs in its own process against the bench database
(BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/tickshop_bench)
and Redis database 11 (BENCH_REDIS_URL). Figures are printed, never asserted.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

QUICK = [
    ["tick.py", "--goods", "1000,10000,100000", "--ticks", "10"],
    ["history.py", "--rows", "1000000", "--goods", "10000", "--requests", "200"],
    ["rest.py", "--goods", "10000", "--seconds", "10"],
    ["servers.py", "--goods", "10000", "--seconds", "6"],
    ["feed.py", "--clients", "1000", "--batches", "10", "--goods", "100"],
    ["feed_attack.py"],
    ["orders.py", "--orders", "2000", "--clients", "50"],
    ["queueing.py", "--goods", "100000", "--seconds", "15"],
    ["slots.py", "--minutes", "1", "--goods", "10000"],
    ["catalog.py", "--goods", "10000"],
    ["scale.py", "--goods", "1000", "--seconds", "15"],
    ["webhooks.py", "--goods", "10000", "--ticks", "10", "--interval", "2"],
    ["watch.py", "--goods", "10000", "--alerts", "10000", "--standing", "1000", "--ticks", "6"],
]
FULL = [
    ["tick.py", "--goods", "1000,10000,100000", "--ticks", "20"],
    ["history.py", "--rows", "10000000", "--goods", "10000", "--requests", "500"],
    ["rest.py", "--goods", "10000", "--seconds", "30"],
    ["servers.py", "--goods", "10000", "--seconds", "10"],
    ["feed.py", "--clients", "1000", "--batches", "30", "--goods", "100"],
    ["feed_attack.py"],
    ["orders.py", "--orders", "10000", "--clients", "50"],
    ["queueing.py", "--goods", "100000", "--seconds", "30"],
    ["slots.py", "--minutes", "10", "--goods", "10000"],
    ["catalog.py", "--goods", "10000"],
    ["scale.py", "--goods", "10000", "--seconds", "30"],
    ["webhooks.py", "--goods", "100000", "--ticks", "20", "--interval", "5"],
    ["watch.py", "--goods", "100000", "--alerts", "100000", "--standing", "10000", "--ticks", "12"],
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", action="store_true", help="the sizes of SPEC §9")
    parser.add_argument("--only", help="run only benchmarks whose file name contains this")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE.parent))
    from bench.common import machine

    print(f"machine: {machine()}; python {sys.version.split()[0]}", flush=True)
    env = {**os.environ, "DB_POOL_MAX_SIZE": os.environ.get("DB_POOL_MAX_SIZE", "60")}
    for script, *params in FULL if args.full else QUICK:
        if args.only and args.only not in script:
            continue
        print(f"# {script} {' '.join(params)}", flush=True)
        subprocess.run([sys.executable, str(HERE / script), *params], env=env, check=False)


if __name__ == "__main__":
    main()
