"""The ceiling of a Django answer: a bare ASGI view returning fixed bytes.

    BARE_VIEW_BODY=/path/to/body.json uvicorn bench.bare_view:application --workers 2

Security and Common middleware only, nothing else of the shop: what Django,
uvicorn (uvloop, httptools) and the machine can serve at most, to hold the
shop's own figures against in the same run.
"""

import os
from pathlib import Path

from django.conf import settings

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bare-view-ceiling",  # noqa: S106 - signs nothing
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[
            "django.middleware.security.SecurityMiddleware",
            "django.middleware.common.CommonMiddleware",
        ],
        INSTALLED_APPS=[],
        USE_TZ=True,
    )

from django.core.asgi import get_asgi_application
from django.http import HttpRequest, HttpResponse
from django.urls import re_path

BODY = Path(os.environ["BARE_VIEW_BODY"]).read_bytes() if os.environ.get("BARE_VIEW_BODY") else b"{}"


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse(BODY, content_type="application/json")


urlpatterns = [re_path(r"", bare)]
application = get_asgi_application()
