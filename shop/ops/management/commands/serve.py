from typing import Any

import uvicorn
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from shop.core.metrics import metrics_dir_prepare


class Command(BaseCommand):
    help = "Serve HTTP and the WebSocket feed on HOST:PORT (ASGI), after `prepare` unless --no-prepare."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-prepare", action="store_true", help="skip migrations and demo data")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["no_prepare"]:
            call_command("prepare", stdout=self.stdout)
        base = settings.SITE_URL
        ticker = "in-process" if settings.PRICE_TICKER == "inprocess" else "Celery beat + worker"
        self.stdout.write(
            f"\ntickshop ({settings.RUN_MODE} mode, ticker: {ticker}, a tick every "
            f"{settings.PRICE_TICK_SECONDS} s)\n"
            f"  shop       {base}/\n"
            f"  API docs   {base}/api/docs/\n"
            f"  API root   {base}/api/\n"
            f"  admin      {base}/admin/\n"
            f"  live feed  {base.replace('http', 'ws', 1)}/ws/price_updates/\n"
        )
        self.stdout.flush()
        metrics_dir_prepare()  # before the workers start: they inherit PROMETHEUS_MULTIPROC_DIR
        uvicorn.run(
            "config.asgi:application",
            host=settings.HOST,
            port=settings.PORT,
            workers=settings.WEB_CONCURRENCY,
            lifespan="on",
            # uvicorn's websockets-sansio, dropping peers that stop reading; imported by each worker
            ws="shop.ops.protocol:SlowReaderGuard",
            # A hard cap far above the feed's limit: the consumer answers messages up to it with a
            # clear error; bigger ones are cut by the protocol (close 1009) without being buffered.
            ws_max_size=4 * settings.FEED_MAX_MESSAGE_BYTES,
            log_level="warning",
            proxy_headers=True,
            forwarded_allow_ips=settings.FORWARDED_ALLOW_IPS,
        )
