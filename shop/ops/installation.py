"""The installation's folders, made at start-up: VAR_DIR and its static files' folder.

From shop.ops' AppConfig.ready, which every entry point (manage.py, the ASGI and
WSGI applications, Celery, the tests) runs before serving anything. The secret key
is not made here: the settings read it (``config.secret_key``), before Django is
configured, and nothing assigns it later.
"""

from pathlib import Path

from django.conf import settings


def installation_prepare() -> None:
    """VAR_DIR (embedded mode's SQLite file) and the collected static files' folder, which
    WhiteNoise expects to exist."""
    Path(settings.VAR_DIR, "static").mkdir(parents=True, exist_ok=True)
