"""Operations (SPEC §11): metrics and health."""

from pathlib import Path

from config.settings.base import VAR_DIR, env

# Every process of the deployment (web workers, Celery, beat) writes its metrics here; a scrape of
# /metrics sums them. Processes that share it must share this directory (one host, or a volume).
PROMETHEUS_MULTIPROC_DIR = Path(env.str("PROMETHEUS_MULTIPROC_DIR", default="") or Path(VAR_DIR, "metrics"))
# GET /metrics needs "Authorization: Bearer <METRICS_TOKEN>"; unset, /metrics is a 404.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# /healthz says "stalled" when a sale is running and no tick committed for this many intervals.
TICKS_STALLED_INTERVALS = env.int("TICKS_STALLED_INTERVALS", default=3)
