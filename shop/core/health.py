"""What ``/healthz`` reports: the services (database, Redis) and the checks apps register.

Core imports no app: an app adds its own part of the answer (the ticker's, from the catalog)
with ``health_register`` in its ``AppConfig.ready``.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

from shop.core.db_store import db_ping

logger = logging.getLogger(__name__)


def health_check() -> dict[str, str]:
    """``{"database": "ok"|"down", "redis": ...}``; Redis only in stack mode."""
    checks = {"database": "ok"}
    try:
        db_ping()
    except Exception:  # any failure means "not healthy", whatever the driver raises
        logger.warning("health: database does not answer", exc_info=True)
        checks["database"] = "down"
    if settings.REDIS_URL:
        try:
            cache.get("tickshop:health")
            checks["redis"] = "ok"
        except Exception:
            logger.warning("health: redis does not answer", exc_info=True)
            checks["redis"] = "down"
    return checks


@dataclass(frozen=True)
class HealthReport:
    """One registered check's answer: ``body`` goes into ``/healthz`` under its name; a report
    that is not ``ok`` keeps the plain probe at 200 but makes ``/healthz?strict=1`` a 503."""

    body: dict[str, Any]
    ok: bool = True


_registered: dict[str, Callable[[], HealthReport]] = {}


def health_register(name: str, check: Callable[[], HealthReport]) -> None:
    _registered[name] = check


def health_reports() -> dict[str, HealthReport]:
    """Every registered check (they read the database: call them only when it answers)."""
    reports = {}
    for name, check in _registered.items():
        try:
            reports[name] = check()
        except Exception:  # a failing check reports itself, never a 500 from the probe
            logger.warning("health: check %s failed", name, exc_info=True)
            reports[name] = HealthReport(body={"status": "unknown"}, ok=False)
    return reports
