from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from shop.accounts.services import user_create_staff_once
from shop.catalog.services.history import price_partitions_ensure
from shop.core.db_store import statement_timeout_lifted, statistics_refresh
from shop.core.schedules import schedules_ensure
from shop.ops.demo import demo_load

NO_STAFF_USER = (
    "no staff user: set ADMIN_EMAIL and ADMIN_PASSWORD before the next start, "
    "or run `python manage.py createsuperuser`"
)


class Command(BaseCommand):
    help = "Migrate, load demo data once and create the staff user from ADMIN_EMAIL/ADMIN_PASSWORD."

    def handle(self, *args: Any, **options: Any) -> None:
        with statement_timeout_lifted():  # a migration may take longer than any request
            call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("database migrated")
        schedules_ensure()
        price_partitions_ensure()
        if demo_load():
            self.stdout.write("demo data loaded")
        statistics_refresh()
        if not (settings.ADMIN_EMAIL and settings.ADMIN_PASSWORD):
            self.stdout.write(NO_STAFF_USER)
        elif user_create_staff_once(email=settings.ADMIN_EMAIL, password=settings.ADMIN_PASSWORD):
            self.stdout.write(f"staff user {settings.ADMIN_EMAIL} created")
        else:
            self.stdout.write(f"staff user {settings.ADMIN_EMAIL} exists (left as it is)")
