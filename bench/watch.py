"""Price alerts and standing orders under a ticking sale (SPEC §15, issue 23 §3): a real Celery
worker and beat tick the sale and match every committed batch; tick p99 with the watches open
against the same run's ticks with none; every crossing matched within its slot.

    python bench/watch.py [--goods 100000] [--alerts 100000] [--standing 10000] [--ticks 8]

How "half cross in one tick" is made exact: the sale ticks in HIGH bounds [50.00, 99.99] first.
Half of the alerts are ``below`` 45 (USD; in EUR the same at the rate) and half of the standing
orders have a limit of 45: no HIGH price reaches them. The other halves are ``below`` 5 / limit 5:
no price of either bounds ever reaches them. Once the watches are open and ticked over, between
two ticks (the slot's tick done) the sale's bounds become LOW [10.00, 39.99]: the next tick's
every price crosses the first halves and none the second. One watch in five is in EUR.

Phases, each ``--ticks`` slots, all on the same workers and beat: ``reference`` (no watches),
``open`` (every watch open, nothing crosses), ``crossing`` (its first slot is the crossing
tick; the rest tick with the uncrossed half still open), and ``reference`` again once every
e-mail is out and the watches are gone: ticks slow down as the price history grows, so the
reference (2 x ``--ticks`` ticks, as many as the phases with watches) is taken on both sides,
after ``--warmup`` slots that are not measured. Tick durations are ``Tick.duration_ms``
(the worker's own figure, as bench/slots.py reports). Then: each crossing alert's
``triggered_at`` and each crossing standing order's ``closed_at`` (its order's created_at)
against the crossing slot's start (slot * PRICE_TICK_SECONDS), the order invariant (SPEC §4)
over every order, and the Tick rows of the whole window (skipped slots, short ticks).
"""

import argparse
import os
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import DATABASE_URL, ROOT, percentile, report, setup, started

HIGH = (Decimal("50.00"), Decimal("99.99"))
LOW = (Decimal("10.00"), Decimal("39.99"))
CROSSING_USD = Decimal("45.00")  # above LOW's max, below HIGH's min
NEVER_USD = Decimal("5.00")  # below LOW's min
EUR_EVERY = 5  # one watch in five is in EUR
PROCFILE = ROOT / "Procfile"


def procfile_workers(celery: str) -> dict[str, list[str]]:
    """The Procfile's Celery workers but webhooks' (no endpoint here), by name, each its command
    as the Procfile has it (its queues, concurrency, CPU priority), with this venv's celery."""
    workers = {}
    for line in PROCFILE.read_text().splitlines():
        name, _, command = line.partition(":")
        argv = command.split()
        if "worker" in argv and name != "webhooks":
            program = argv.index("celery")  # the program (a queue may be named celery too)
            workers[name] = [*argv[:program], celery, *argv[program + 1 :]]
    return workers


def thresholds() -> dict[str, tuple[Decimal, Decimal]]:
    """currency -> (crossing, never) thresholds in that currency, at its rate now."""
    from shop.currency.models import ExchangeRate

    eur = ExchangeRate.objects.filter(currency_id="EUR").latest("valid_from").rate
    q = Decimal("0.01")
    return {
        "USD": (CROSSING_USD, NEVER_USD),
        "EUR": ((CROSSING_USD * eur).quantize(q), (NEVER_USD * eur).quantize(q)),
    }


def users_seed(count: int) -> list[int]:
    from django.contrib.auth.hashers import make_password

    from shop.accounts.models import User

    User.objects.filter(email__endswith="@watch.bench").delete()
    password = make_password(None)
    User.objects.bulk_create(
        [User(email=f"w{n}@watch.bench", password=password, is_active=True) for n in range(count)],
        batch_size=5000,
    )
    return list(
        User.objects.filter(email__endswith="@watch.bench").order_by("id").values_list("id", flat=True)
    )


def watches_seed(*, goods: int, alerts: int, standing: int, users: list[int]) -> None:
    """``alerts`` alerts and ``standing`` standing orders, open, created now, spread evenly over
    the goods (ids 1..goods) and over ``users``; even numbers cross in LOW bounds, odd never."""
    from django.db import connection

    limits = thresholds()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE pricewatch_alert, pricewatch_standingorder RESTART IDENTITY")
        common = """
            SELECT %(users)s::bigint[], %(goods)s::bigint, %(every)s::int,
                   %(usd_x)s::numeric, %(usd_n)s::numeric, %(eur_x)s::numeric, %(eur_n)s::numeric
        """
        params: dict[str, Any] = {
            "users": users, "goods": goods, "every": EUR_EVERY,
            "usd_x": limits["USD"][0], "usd_n": limits["USD"][1], "eur_x": limits["EUR"][0], "eur_n": limits["EUR"][1],
        }  # fmt: skip
        # n -> goods spread evenly (n * goods / count), user by a stride prime to the count of users.
        cursor.execute(
            f"""
            WITH p(users, goods, every, usd_x, usd_n, eur_x, eur_n) AS ({common})
            INSERT INTO pricewatch_alert (user_id, goods_id, currency_id, direction, price, created_at)
            SELECT p.users[1 + (n * 7919) %% cardinality(p.users)], 1 + (n * p.goods / %(count)s),
                   CASE WHEN n %% p.every = 0 THEN 'EUR' ELSE 'USD' END, 'below',
                   CASE WHEN n %% p.every = 0 THEN (CASE WHEN n %% 2 = 0 THEN p.eur_x ELSE p.eur_n END)
                        ELSE (CASE WHEN n %% 2 = 0 THEN p.usd_x ELSE p.usd_n END) END,
                   now()
            FROM p, generate_series(0, %(count)s - 1) AS n
            """,  # noqa: S608 - constants only
            {**params, "count": alerts},
        )
        cursor.execute(
            f"""
            WITH p(users, goods, every, usd_x, usd_n, eur_x, eur_n) AS ({common})
            INSERT INTO pricewatch_standingorder (user_id, goods_id, quantity, currency_id, limit_price,
                                                  expires_at, status, created_at)
            SELECT p.users[1 + (n * 7919) %% cardinality(p.users)], 1 + (n * p.goods / %(count)s), 1,
                   CASE WHEN n %% p.every = 0 THEN 'EUR' ELSE 'USD' END,
                   CASE WHEN n %% p.every = 0 THEN (CASE WHEN n %% 2 = 0 THEN p.eur_x ELSE p.eur_n END)
                        ELSE (CASE WHEN n %% 2 = 0 THEN p.usd_x ELSE p.usd_n END) END,
                   now() + interval '1 day', 'open', now()
            FROM p, generate_series(0, %(count)s - 1) AS n
            """,  # noqa: S608 - constants only
            {**params, "count": standing},
        )
        cursor.execute("ANALYZE pricewatch_alert, pricewatch_standingorder")


def bounds_set(sale_id: int, bounds: tuple[Decimal, Decimal]) -> None:
    from django.db.models import F

    from shop.catalog.models import Sale

    Sale.objects.filter(pk=sale_id).update(min_price=bounds[0], max_price=bounds[1], version=F("version") + 1)


def slot_now(tick_seconds: int) -> int:
    return int(time.time() // tick_seconds)


def wait_slot(slot: int, tick_seconds: int) -> None:
    time.sleep(max(0.0, slot * tick_seconds - time.time()))


def tick_done(slot: int, *, timeout: float) -> bool:
    """Wait until the tick of ``slot`` has finished (its duration written); False when it did not."""
    from shop.catalog.models import Tick

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Tick.objects.filter(slot=slot, duration_ms__gt=0).exists():
            return True
        time.sleep(0.05)
    return False


def durations(first: int, last: int) -> list[float]:
    from shop.catalog.models import Tick

    return [t.duration_ms for t in Tick.objects.filter(slot__gte=first, slot__lte=last)]


def tick_figures(values: list[float]) -> dict[str, object]:
    if not values:
        return {"ticks": 0}
    return {"ticks": len(values), "median_ms": float(percentile(values, 50)), "p99_ms": float(percentile(values, 99)),
            "max_ms": float(max(values))}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--goods", type=int, default=100_000)
    parser.add_argument("--alerts", type=int, default=100_000)
    parser.add_argument("--standing", type=int, default=10_000)
    parser.add_argument("--users", type=int, help="shoppers the watches belong to (default: alerts / 20)")
    parser.add_argument("--ticks", type=int, default=8, help="slots per phase")
    parser.add_argument(
        "--warmup", type=int, default=12, help="slots ticked before the reference, not measured"
    )
    parser.add_argument(
        "--drain",
        type=float,
        default=300.0,
        help="seconds to wait for late matches, then for the e-mails, at the end",
    )
    parser.add_argument("--worker", action="append", metavar="QUEUES",
                        help="a worker (--concurrency=2; 1 for mail alone) consuming these queues (comma-separated); repeat for more "
                             "workers (default: the Procfile's worker, matching, mail and bulk_mail, as it runs them)")  # fmt: skip
    args = parser.parse_args()
    setup()
    from django.conf import settings
    from django.db import connection

    from bench.seed import goods_in_sale
    from shop.catalog.models import Tick
    from shop.core.schedules import schedules_ensure
    from shop.tests.invariant import order_invariant_violations

    seconds = settings.PRICE_TICK_SECONDS
    sale = goods_in_sale(args.goods, min_price=str(HIGH[0]), max_price=str(HIGH[1]))
    with connection.cursor() as cursor:  # watches of an earlier run (the goods' truncate cascaded to them)
        cursor.execute("TRUNCATE pricewatch_alert, pricewatch_standingorder RESTART IDENTITY")
    users = users_seed(args.users or max(1, args.alerts // 20))
    schedules_ensure()
    import redis

    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()  # no task of an earlier run left queued
    env = {**os.environ, "DATABASE_URL": DATABASE_URL, "LOG_LEVEL": "WARNING", "PRICE_MATCHING": "celery"}
    celery = str(Path(sys.executable).with_name("celery"))
    (ROOT / "var").mkdir(exist_ok=True)
    if args.worker:
        workers = {
            queues or "default": [celery, "-A", "config", "worker", f"--concurrency={1 if queues == 'mail' else 2}", "--loglevel=WARNING", *(["-Q", queues, "-n", f"w{n}@%h"] if queues else [])]
            for n, queues in enumerate(args.worker)
        }  # fmt: skip
    else:
        workers = procfile_workers(celery)
    with ExitStack() as stack:
        for n, argv in enumerate(workers.values()):
            stack.enter_context(started(argv, env, f"watch-worker{n}.log"))
        stack.enter_context(
            started([celery, "-A", "config", "beat", "--loglevel=WARNING"], env, "watch-beat.log")
        )
        time.sleep(15)  # start-up
        # Warm-up: a fresh history table ticks faster for its first slots than it will later.
        wait_slot(slot_now(seconds) + 1 + args.warmup, seconds)
        # Reference: no watch open (the match tasks run and find nothing).
        ref_first = slot_now(seconds) + 1
        wait_slot(ref_first + args.ticks, seconds)
        ref_last = ref_first + args.ticks - 1
        # Every watch open, created while the sale ticks in HIGH bounds.
        with_seed = time.monotonic()
        watches_seed(goods=args.goods, alerts=args.alerts, standing=args.standing, users=users)
        seeded_s = time.monotonic() - with_seed
        open_first = slot_now(seconds) + 1
        wait_slot(open_first + args.ticks, seconds)
        open_last = open_first + args.ticks - 1
        # Between two ticks: LOW bounds from the next one on, which crosses half of every watch.
        current = slot_now(seconds)
        if not tick_done(current, timeout=seconds):
            current += 1
            wait_slot(current, seconds)
            tick_done(current, timeout=seconds)
        bounds_set(sale.pk, LOW)
        cross = current + 1
        wait_slot(cross + args.ticks, seconds)
        cross_last = cross + args.ticks - 1
        matched = wait_matched(deadline=time.monotonic() + args.drain)
        start = datetime.fromtimestamp(cross * seconds, tz=UTC)
        crossings = crossing_figures(start=start, seconds=seconds)
        # Reference again, once every e-mail is out and no watch is left: the ticks slow down as the
        # history grows, so the reference is taken on both sides of the watches' phases.
        mailed = wait_mailed(deadline=time.monotonic() + args.drain)
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE pricewatch_alert, pricewatch_standingorder")
        ref2_first = slot_now(seconds) + 1
        wait_slot(ref2_first + args.ticks, seconds)
        ref2_last = ref2_first + args.ticks - 1
    # Done ticking: the figures.
    ref, opened, after = (
        durations(ref_first, ref_last) + durations(ref2_first, ref2_last),
        durations(open_first, open_last),
        durations(cross + 1, cross_last),
    )
    crossing_tick = Tick.objects.filter(slot=cross).first()
    report(
        "watch_ticks",
        phase="reference",
        workers="+".join(workers),
        goods=args.goods,
        alerts=0,
        standing=0,
        before_median_ms=float(percentile(durations(ref_first, ref_last), 50)),
        after_median_ms=float(percentile(durations(ref2_first, ref2_last), 50)),
        **tick_figures(ref),
    )
    report("watch_ticks", phase="open", goods=args.goods, alerts=args.alerts, standing=args.standing,
           seeded_s=seeded_s, **tick_figures(opened))  # fmt: skip
    report("watch_ticks", phase="crossing_tick", slot=cross,
           duration_ms=crossing_tick.duration_ms if crossing_tick else "none")  # fmt: skip
    report("watch_ticks", phase="after", alerts_open=args.alerts // 2, standing_open=args.standing // 2,
           **tick_figures(after))  # fmt: skip
    with_watches = opened + ([crossing_tick.duration_ms] if crossing_tick else []) + after
    ref_p99, watch_p99 = percentile(ref, 99), percentile(with_watches, 99)
    report("watch_tick_p99", ours_ms=float(watch_p99), reference_ms=float(ref_p99),
           ratio=f"{watch_p99 / ref_p99:.2f}" if ref_p99 else "nan", ticks=len(with_watches),
           reference_ticks=len(ref))  # fmt: skip
    for name, figures in crossings:
        report(name, **figures)
    lines, orders = order_invariant_violations()
    report("watch_invariant", line_violations=lines, rate_violations=orders,
           orders=_scalar("SELECT count(*) FROM orders_order"))  # fmt: skip
    slots = {t.slot: t for t in Tick.objects.filter(slot__gte=ref_first, slot__lte=ref2_last)}
    expected = ref2_last - ref_first + 1
    report("watch_slots", slots=expected, ticked=len(slots), skipped=expected - len(slots),
           incomplete=sum(t.goods_count != args.goods for t in slots.values()), drained=matched,
           mailed=mailed)  # fmt: skip


def wait_matched(*, deadline: float) -> bool:
    """Wait (up to ``deadline``) until no crossing alert or standing order is left open."""
    while time.monotonic() < deadline:
        if not _scalar(
            "SELECT (SELECT count(*) FROM pricewatch_alert WHERE triggered_at IS NULL AND price > 20)"
            " + (SELECT count(*) FROM pricewatch_standingorder WHERE status = 'open' AND limit_price > 20)"
        ):
            return True
        time.sleep(0.5)
    return False


def wait_mailed(*, deadline: float) -> bool:
    """Wait (up to ``deadline``) until every fired alert is mailed and no bulk e-mail waits in
    the broker (the fills' order e-mails went first: they were queued a tick before)."""
    import redis

    broker = redis.Redis.from_url(os.environ["REDIS_URL"])
    while time.monotonic() < deadline:
        if not broker.llen("mail_bulk") and not _scalar(
            "SELECT count(*) FROM pricewatch_alert WHERE triggered_at IS NOT NULL AND emailed_at IS NULL"
        ):
            return True
        time.sleep(0.5)
    return False


def _scalar(sql: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql)
        return int(cursor.fetchone()[0])


def crossing_figures(*, start: datetime, seconds: int) -> list[tuple[str, dict[str, object]]]:
    """One line for the alerts, one for the standing orders: those that crossed (threshold above
    20 in their currency) matched within the slot, late, or not at all; the other half matched
    (must be 0); seconds from the slot's start to the last match, and its p99."""
    from django.db import connection

    end = start + timedelta(seconds=seconds)
    out = []
    for name, table, at, done in (
        ("watch_alerts", "pricewatch_alert", "triggered_at", "triggered_at IS NOT NULL"),
        ("watch_standing", "pricewatch_standingorder", "closed_at", "status = 'filled'"),
    ):
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                SELECT count(*) FILTER (WHERE price_col > 20),
                       count(*) FILTER (WHERE price_col > 20 AND {done} AND {at} >= %(start)s AND {at} < %(end)s),
                       count(*) FILTER (WHERE price_col > 20 AND {done} AND {at} >= %(end)s),
                       count(*) FILTER (WHERE price_col > 20 AND {done} AND {at} < %(start)s),
                       count(*) FILTER (WHERE price_col > 20 AND NOT ({done})),
                       count(*) FILTER (WHERE price_col <= 20 AND {done}),
                       extract(epoch FROM max({at}) FILTER (WHERE price_col > 20) - %(start)s),
                       extract(epoch FROM percentile_disc(0.5) WITHIN GROUP (ORDER BY {at})
                               FILTER (WHERE price_col > 20) - %(start)s)
                FROM (SELECT *, {"price" if table == "pricewatch_alert" else "limit_price"} AS price_col
                      FROM {table}) w
                """,  # noqa: S608 - constants only
                {"start": start, "end": end},
            )
            crossing, in_slot, late, early, unmatched, wrong, last_s, median_s = cursor.fetchone()
        out.append((name, {
            "crossing": crossing, "in_slot": in_slot, "late": late, "early": early,
            "unmatched": unmatched, "uncrossed_matched": wrong,
            "last_after_slot_start_s": f"{last_s:.2f}" if last_s is not None else "none",
            "median_after_slot_start_s": f"{median_s:.2f}" if median_s is not None else "none",
        }))  # fmt: skip
    return out


if __name__ == "__main__":
    main()
