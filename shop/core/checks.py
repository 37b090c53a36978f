"""System checks of tickshop's own (``manage.py check``; the deploy ones with ``--deploy``)."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from shop.core.throttling import Rate

SECRET_KEY_NOT_SET = (
    "SECRET_KEY is not set in the environment: a key generated for this installation (in VAR_DIR) "  # noqa: S105
    "is used, which every web process and replica must share."
)


@register(Tags.security, deploy=True)
def secret_key_from_environment(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.SECRET_KEY_FROM_ENV:
        return []
    return [
        Warning(
            SECRET_KEY_NOT_SET,
            hint="Set SECRET_KEY (50+ random characters) and REQUIRE_SECRET_KEY=true.",
            id="shop.W001",
        )
    ]


@register(Tags.security)
def throttle_rates_are_readable(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """A mistyped limit is refused at start-up, not discovered as a 500 on the first login."""
    problems: list[CheckMessage] = []
    for name in sorted({n for n in dir(settings) if n.startswith("THROTTLE_")}):
        try:
            Rate.parse(str(getattr(settings, name)))
        except ValueError as exc:
            problems.append(Error(f"{name}: {exc}", id="shop.E001"))
    return problems
