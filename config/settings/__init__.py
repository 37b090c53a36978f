"""tickshop settings: every value comes from the environment (.env.example lists them all).

Two run modes share them (SPEC §2). Without DATABASE_URL the shop uses a SQLite
file under var/; without REDIS_URL it uses an in-memory channel layer,
local-memory cache and the in-process ticker ("embedded"). With both set it is
the "stack" mode: PostgreSQL, Redis as broker, channel layer and cache.

One module per topic; each takes what it needs from ``base`` by name, and no
two define the same setting, and nothing assigns one later. Reading them changes
two things outside Python, each in one place: without SECRET_KEY in the
environment, the first read makes the installation's key (``security``:
VAR_DIR/secret_key, mode 0600, then read by every process); and ``operations``
exports PROMETHEUS_MULTIPROC_DIR, which prometheus-client reads only from the
environment. The folders are made at start-up (shop.ops.installation).
"""

from config.settings.api import *  # noqa: F403
from config.settings.base import *  # noqa: F403
from config.settings.celery import *  # noqa: F403
from config.settings.channels import *  # noqa: F403
from config.settings.database import *  # noqa: F403
from config.settings.email import *  # noqa: F403
from config.settings.imports import *  # noqa: F403
from config.settings.limits import *  # noqa: F403
from config.settings.logging import *  # noqa: F403
from config.settings.operations import *  # noqa: F403
from config.settings.security import *  # noqa: F403
from config.settings.shop import *  # noqa: F403
from config.settings.webhooks import *  # noqa: F403
