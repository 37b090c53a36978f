import os
from typing import Any

from celery import Celery
from celery.signals import beat_init, setup_logging, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("tickshop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def use_django_logging(**kwargs: Any) -> None:
    """Workers and beat log through Django's LOGGING (JSON lines in stack mode), not Celery's own format."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


@worker_init.connect
@beat_init.connect
def prepare_metrics(**kwargs: Any) -> None:
    """Worker and beat write their metrics where the web processes read them (SPEC §11)."""
    from shop.core.metrics import metrics_dir_prepare

    metrics_dir_prepare()
