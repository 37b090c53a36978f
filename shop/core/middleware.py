"""HTTP middleware of the whole site: request ids and access log, the health probe."""

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from shop.core import logging as shop_logging
from shop.core.views import healthz

access_log = logging.getLogger("shop.request")

REQUEST_ID_HEADER = "X-Request-ID"
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")  # a proxy's id is kept if it looks like one


class RequestIdMiddleware:
    """Every request gets an id (the client's or proxy's ``X-Request-ID`` when it is sane, else a
    new one): logged with each line the request causes and sent back in ``X-Request-ID``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        rid = given if _CLIENT_ID.match(given) else uuid.uuid4().hex
        token = shop_logging.request_id.set(rid)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = rid
            if settings.LOG_REQUESTS:
                access_log.info(
                    "%s %s %s",
                    request.method,
                    request.path,
                    response.status_code,
                    extra={
                        "method": request.method,
                        "path": request.path,
                        "status": response.status_code,
                        "duration_ms": round((time.monotonic() - started) * 1000, 1),
                        "client": request.META.get("REMOTE_ADDR"),
                    },
                )
            return response
        finally:
            shop_logging.request_id.reset(token)


class HealthCheckMiddleware:
    """``/healthz`` answered before the host and TLS checks: load balancers and container
    health checks probe by address (``127.0.0.1``), over plain HTTP."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/healthz":
            return healthz(request)
        return self.get_response(request)
