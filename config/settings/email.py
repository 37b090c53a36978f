"""E-mail (SPEC §5): the transport from EMAIL_URL, and who sends account e-mails."""

import environ

from config.settings.base import REDIS_URL, env

_email = env.email_url("EMAIL_URL", default="consolemail://")
if _email["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend":
    # django-environ drops the leading "/" of filemail:///abs/dir; SPEC §5 means that absolute path.
    _email["EMAIL_FILE_PATH"] = "/" + _email["EMAIL_FILE_PATH"].lstrip("/")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email["EMAIL_HOST"]
EMAIL_PORT = _email["EMAIL_PORT"]
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"]
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"]
EMAIL_FILE_PATH = _email["EMAIL_FILE_PATH"]
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="tickshop <noreply@tickshop.local>")
# Seconds an SMTP connection may block: a mail server that stops answering frees its sender.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
# E-mails the bulk mail worker sends a second at most (a tick's alerts, a fill's orders; each of its
# processes): a burst is spread out instead of competing with the ticks for the database. 0: no
# cap; at least 5, or a task of 100 shoppers' alerts would run past its time limit.
EMAIL_PER_SECOND = env.float("EMAIL_PER_SECOND", default=50.0)
if EMAIL_PER_SECOND != 0 and EMAIL_PER_SECOND < 5:
    raise environ.ImproperlyConfigured(
        f"EMAIL_PER_SECOND must be 0 (no cap) or at least 5, not {EMAIL_PER_SECOND}"
    )
# Who sends account e-mails, after commit and never in the request: "celery" (a task for the worker,
# the stack default) or "thread" (a background thread of the web process, the embedded default).
EMAIL_DELIVERY = env.str("EMAIL_DELIVERY", default="") or ("celery" if REDIS_URL else "thread")
if EMAIL_DELIVERY not in ("celery", "thread"):
    raise environ.ImproperlyConfigured(f"EMAIL_DELIVERY must be celery or thread, not {EMAIL_DELIVERY!r}")
