import logging

from django.conf import settings
from django.core.cache import cache
from django.db import connection

logger = logging.getLogger(__name__)


def health_check() -> dict[str, str]:
    """``{"database": "ok"|"down", "redis": ...}``; Redis only in stack mode."""
    checks = {"database": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
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
