"""The installation's files, made at start-up: VAR_DIR's folders and the secret key.

Settings only read the environment; what a first start has to create on disk
is made here, from shop.ops' AppConfig.ready, which every entry point (manage.py,
the ASGI and WSGI applications, Celery, the tests) runs before serving anything.
"""

import os
import secrets
from pathlib import Path

from django.conf import settings


def secret_key_of_installation(directory: Path) -> str:
    """A random key made on first start and kept in VAR_DIR (mode 0600).

    Never a key written in the source: a known key would let anyone sign JWTs
    and sessions. Processes of one machine share the file; the first to start
    creates it atomically (link fails if another won).
    """
    path = Path(directory, "secret_key")
    if not path.exists():
        draft = path.with_name(f".secret_key.{os.getpid()}")
        # Made with mode 0600: no moment in which another user could read it.
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(50))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def installation_prepare() -> None:
    """VAR_DIR (embedded mode's SQLite file, collected static files) and, unless the
    environment sets SECRET_KEY, the installation's own key."""
    Path(settings.VAR_DIR, "static").mkdir(parents=True, exist_ok=True)
    if not settings.SECRET_KEY_FROM_ENV:
        settings.SECRET_KEY = secret_key_of_installation(settings.VAR_DIR)
