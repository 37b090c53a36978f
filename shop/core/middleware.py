"""HTTP middleware of the whole site: request metrics, request ids and access log, the probes."""

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from shop.core import logging as shop_logging
from shop.core.metrics import HTTP_DURATION, HTTP_REQUESTS
from shop.core.views import healthz, metrics

access_log = logging.getLogger("shop.request")

REQUEST_ID_HEADER = "X-Request-ID"
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")  # a proxy's id is kept if it looks like one


HTTP_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>")
_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


def route_label(route: str) -> str:
    """A resolved URL pattern as a metrics label: ``api/goods/(?P<pk>[^/.]+)/$`` and
    ``api/cart/items/<int:goods_id>/`` become ``/api/goods/{pk}/`` and ``/api/cart/items/{goods_id}/``.
    Never the raw path: ids would make a label value per object."""
    out, i = [], 0
    while i < len(route):
        group = _NAMED_GROUP.match(route, i)
        if group is None:
            out.append(route[i])
            i += 1
            continue
        out.append("{" + group[1] + "}")
        depth, i = 1, group.end()
        while i < len(route) and depth:  # skip the group's pattern, nested parentheses and all
            if route[i] == "\\":
                i += 1
            elif route[i] == "(":
                depth += 1
            elif route[i] == ")":
                depth -= 1
            i += 1
    text = _CONVERTER.sub(r"{\1}", "".join(out))
    text = text.replace("^", "").replace("$", "").replace("/?", "/").replace("\\", "")
    return "/" + text.lstrip("/")


def request_route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return route_label(match.route)
    if request.path in ("/healthz", "/metrics"):
        return request.path
    if request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return "static"
    return "unmatched"


class MetricsMiddleware:
    """``tickshop_http_requests_total`` and ``tickshop_http_request_duration_seconds`` by method and
    URL pattern; outermost, so the time covers every other middleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        method = request.method if request.method in HTTP_METHODS else "other"
        route = request_route(request)
        HTTP_DURATION.labels(method, route).observe(time.perf_counter() - started)
        HTTP_REQUESTS.labels(method, route, str(response.status_code)).inc()
        return response


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
    """``/healthz`` and ``/metrics`` answered before the host and TLS checks: load balancers,
    container health checks and Prometheus probe by address (``127.0.0.1``, a replica's IP), over
    plain HTTP. ``/metrics`` checks its own token."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/healthz":
            return healthz(request)
        if request.path == "/metrics":
            return metrics(request)
        return self.get_response(request)
