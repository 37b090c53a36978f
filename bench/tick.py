"""Tick at scale (SPEC §9): N goods repriced, committed and broadcast.

python bench/tick.py [--goods 1000,10000,100000] [--ticks 10] [--chunk N] [--strategies uniform,walk,demand]

Each size is ticked once per pricing strategy (SPEC §14), one line each: a ``walk`` sale follows
its current prices, a ``demand`` sale counts as many orders in its window as it has goods.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Timer, report, setup, summary_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--goods", default="1000,10000,100000")
    parser.add_argument("--ticks", type=int, default=10)
    parser.add_argument("--chunk", type=int, help="goods per chunk (default: the service's)")
    parser.add_argument("--strategies", default="uniform,walk,demand")
    args = parser.parse_args()
    setup()
    from bench.seed import goods_in_sale, orders_in_window
    from shop.catalog.models import Sale
    from shop.catalog.services.ticks import TICK_CHUNK_GOODS, tick_run

    for size in [int(n) for n in args.goods.split(",")]:
        for strategy in args.strategies.split(","):
            sale = goods_in_sale(size)
            Sale.objects.filter(pk=sale.pk).update(strategy=strategy)
            orders = size if strategy == "demand" else 0
            if orders:
                orders_in_window(orders, goods=size)
            samples = []
            for slot in range(args.ticks):
                with Timer() as t:  # reprice, commit and publish (on_commit runs before tick_run returns)
                    result = tick_run(slot=slot, chunk_size=args.chunk)
                assert result.goods_count == size, result
                samples.append(t.seconds)
            report(
                "tick",
                strategy=strategy,
                goods=size,
                orders=orders,
                ticks=args.ticks,
                chunk=args.chunk or TICK_CHUNK_GOODS,
                **summary_ms(samples),
            )


if __name__ == "__main__":
    main()
