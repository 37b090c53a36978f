"""The shop's HTTP through Django's own ASGI handler, for ``bench/servers.py`` to compare.

    uvicorn bench.asgi_handler:application --workers 2

The shop itself runs its (synchronous) views through ``shop.core.asgi_http``;
this module serves the same project through ``django.core.asgi``, the way
``manage.py serve`` did before, so both can be measured side by side.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.core.asgi import get_asgi_application

django_app = get_asgi_application()  # before the shop's modules: they need the apps loaded

from django.conf import settings  # noqa: E402

from shop.core.asgi import BodySizeLimit  # noqa: E402

application = BodySizeLimit(django_app, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
