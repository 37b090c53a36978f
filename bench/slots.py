"""Skipped slots (SPEC §9): a real Celery worker and beat tick for N minutes;
every PRICE_TICK_SECONDS slot in that time must have exactly one tick.

    python bench/slots.py [--minutes 10] [--goods 10000]
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import DATABASE_URL, ROOT, report, setup, summary_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--goods", type=int, default=10_000)
    args = parser.parse_args()
    setup()
    from bench.seed import goods_in_sale
    from shop.catalog.models import Tick
    from shop.core.schedules import schedules_ensure

    goods_in_sale(args.goods)
    schedules_ensure()
    env = {**os.environ, "DATABASE_URL": DATABASE_URL, "LOG_LEVEL": "WARNING"}
    celery = str(Path(sys.executable).with_name("celery"))
    processes = [
        subprocess.Popen(
            [celery, "-A", "config", role, "--loglevel=WARNING"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for role in ("worker", "beat")
    ]
    try:
        time.sleep(15)  # start-up
        first = int(time.time() // 5) + 1
        time.sleep(args.minutes * 60)
        last = int(time.time() // 5) - 1
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait()
    ticks = {t.slot: t for t in Tick.objects.filter(slot__gte=first, slot__lte=last)}
    expected = last - first + 1
    durations = [t.duration_ms / 1000 for t in ticks.values()]
    incomplete = sum(t.goods_count != args.goods for t in ticks.values())  # stopped short (whole chunks only)
    report("slots", minutes=args.minutes, goods=args.goods, slots=expected, ticked=len(ticks),
           skipped=expected - len(ticks), incomplete=incomplete, **summary_ms(durations))  # fmt: skip


if __name__ == "__main__":
    main()
