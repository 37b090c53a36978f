"""The installation's secret key, for a shop whose environment sets no SECRET_KEY.

Read by the settings (``config.settings.security``), which every process of the
shop reads before anything else (manage.py and its commands, the ASGI and WSGI
applications, Celery worker and beat, the tests): so this is the one place the
key is made, before Django is configured, and no code assigns it later.
"""

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def secret_key_of_installation(var_dir: Path) -> str:
    """``VAR_DIR/secret_key``: made at the first read (mode 0600), then read by every process.

    Never a key written in the source: a known key would let anyone sign JWTs and
    sessions. Processes of one machine (or of a shared volume) share the file, so the
    key is stable across restarts and processes. The first to start writes a draft
    and links it into place; link fails if another process won, and both read the
    winner's key. A reader never sees half a key: the draft is complete before it
    has the file's name.
    """
    path = Path(var_dir, "secret_key")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".secret_key.{os.getpid()}")
        # Made with mode 0600: no moment in which another user could read it.
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(50))
                out.flush()
                os.fsync(out.fileno())  # on disk before it has the name: a crash leaves no empty key
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink(missing_ok=True)
    key = path.read_text().strip()
    if not key:
        raise ImproperlyConfigured(f"{path} is empty: remove it (a new key is made) or set SECRET_KEY")
    return key
