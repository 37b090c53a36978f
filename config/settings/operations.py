"""Operations (SPEC §11): metrics and health."""

import os
from pathlib import Path

from config.settings.base import VAR_DIR, env

# Every process of the deployment (web workers, Celery, beat) writes its metrics here; a scrape of
# /metrics sums them. Processes that share it must share this directory (one host, or a volume).
PROMETHEUS_MULTIPROC_DIR = Path(env.str("PROMETHEUS_MULTIPROC_DIR", default="") or Path(VAR_DIR, "metrics"))
# The one place the shop sets an environment variable: prometheus-client takes the directory only
# from the environment, each time a process opens its files (its first metric, and again in a forked
# child: Celery's worker processes), so every process that reads these settings exports the value
# they resolved (the default included), and the processes it starts inherit it. shop.core.metrics
# reads the setting.
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(PROMETHEUS_MULTIPROC_DIR)
# GET /metrics needs "Authorization: Bearer <METRICS_TOKEN>"; unset, /metrics is a 404.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# /healthz says "stalled" when a sale is running and no tick committed for this many intervals.
TICKS_STALLED_INTERVALS = env.int("TICKS_STALLED_INTERVALS", default=3)
