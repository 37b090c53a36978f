"""Django's own ceiling: a bare ASGI view that answers fixed bytes (SPEC §9).

    CEILING_BODIES=bodies.json uvicorn bench.ceiling:application --workers 2 --loop uvloop --http httptools

``bodies.json`` maps a full path (query included) to the exact JSON text the shop
answers there; any other path is a 404. The project is this module alone:
``SecurityMiddleware`` and ``CommonMiddleware`` only, no database, no
templates, no apps. What the shop serves slower than this is the shop's own
cost, so the benchmarks report the shop's figures as ratios of this one,
measured in the same run by the same load client.
"""

import json
import os
from pathlib import Path

import django
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import path

BODIES: dict[str, bytes] = {
    full_path: text.encode()
    for full_path, text in json.loads(Path(os.environ["CEILING_BODIES"]).read_text(encoding="utf-8")).items()
}


def answer(request: HttpRequest, rest: str = "") -> HttpResponse:
    body = BODIES.get(request.get_full_path())
    if body is None:
        return HttpResponse(b'{"detail":"Not found."}', status=404, content_type="application/json")
    return HttpResponse(body, content_type="application/json")


urlpatterns = [path("<path:rest>", answer)]

settings.configure(
    DEBUG=False,
    SECRET_KEY="ceiling",  # noqa: S106 - answers fixed bytes, signs nothing
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[],
    MIDDLEWARE=["django.middleware.security.SecurityMiddleware", "django.middleware.common.CommonMiddleware"],
    USE_TZ=True,
)
django.setup()

from django.core.asgi import get_asgi_application  # noqa: E402 - needs the settings above

application = get_asgi_application()
