"""The authentication backend: Django's ModelBackend behind the login limits.

Every password login of the project asks ``django.contrib.auth.authenticate``: SimpleJWT's
login, the admin's and the browsable API's login forms, and any view added later. Counting
here, not in a view or at a URL, means no route can reach a password check unlimited (a
path without its trailing slash reached SimpleJWT's view unlimited when the limit sat in the
view mounted at one path). Over a limit it raises ``RateLimited``: DRF's exception handler
and, for plain Django views, ``shop.core.middleware.ShopErrorMiddleware`` answer 429 with
``Retry-After``.
"""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from shop.accounts.models import User
from shop.accounts.throttles import login_settle, login_throttle, normalized_email


class LoginLimitedBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if request is None:  # no client to count (a management command, a shell)
            return super().authenticate(request, username, password, **kwargs)
        email = normalized_email(username if username is not None else kwargs.get(User.USERNAME_FIELD))
        over_email_cap = login_throttle(request=request, email=email)
        user = super().authenticate(request, username, password, **kwargs)
        login_settle(request=request, email=email, succeeded=user is not None, over_email_cap=over_email_cap)
        return user
