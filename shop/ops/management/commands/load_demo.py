from typing import Any

from django.core.management.base import BaseCommand

from shop.ops.demo import demo_load


class Command(BaseCommand):
    help = "Load demo currencies, goods and a running sale (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        loaded = demo_load()
        self.stdout.write("demo data loaded" if loaded else "demo data present already; nothing loaded")
