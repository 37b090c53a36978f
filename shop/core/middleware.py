"""HTTP middleware of the whole site: request metrics, request ids and access log, the probes,
path ids, the content security policy's allowances."""

import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from csp.constants import SELF, UNSAFE_INLINE
from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse

from shop.core import logging as shop_logging
from shop.core.errors import CoreErrorCode, ShopError, database_unavailable
from shop.core.ids import INVALID_ID, parse_id
from shop.core.metrics import HTTP_DURATION, HTTP_REQUESTS
from shop.core.views import healthz, metrics

access_log = logging.getLogger("shop.request")

REQUEST_ID_HEADER = "X-Request-ID"
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")  # a proxy's id is kept if it looks like one
# The storefront's pages behind the links in account e-mails carry a one-time token in the path.
_TOKEN_IN_PATH = re.compile(r"^(/(?:activate|password-reset)/[^/]+/)[^/]+")


def loggable_path(path: str) -> str:
    """The path without secrets: ``/activate/MTI/c1x-9f…`` -> ``/activate/MTI/[redacted]``."""
    return _TOKEN_IN_PATH.sub(r"\1[redacted]", path)


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


class ShopErrorMiddleware:
    """A ShopError raised under a plain Django view (the admin's login over the login limits,
    say) answers as the API's exception handler would: its status and JSON body, and
    ``Retry-After`` on a 429; so does a database error (503, never a 500). DRF views answer
    their own before it gets here."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OperationalError | InterfaceError):
            exception = database_unavailable(exception)
        if not isinstance(exception, ShopError):
            return None
        return JsonResponse(exception.body(), status=exception.status_code, headers=exception.headers())


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
                path = loggable_path(request.path)
                access_log.info(
                    "%s %s %s",
                    request.method,
                    path,
                    response.status_code,
                    extra={
                        "method": request.method,
                        "path": path,
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


# Path parameters that hold ids, in every URL pattern of the site (router ``pk``,
# Djoser's ``id``, the cart's ``goods_id``).
ID_PATH_PARAMETERS = ("pk", "id", "goods_id")


# The JSON API's paths (SPEC §6); the storefront answers a bad id in a page's path with its 404 page.
API_PATHS = ("/api/", "/auth/")


class IdPathMiddleware:
    """An API path whose id is not a plain integer in range is a 400 before any view runs."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response: HttpResponse = self.get_response(request)
        return response

    def process_view(
        self, request: HttpRequest, view: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> HttpResponse | None:
        if not request.path.startswith(API_PATHS):
            return None
        for name in ID_PATH_PARAMETERS:
            if name in kwargs and parse_id(kwargs[name]) is None:
                return JsonResponse({"detail": INVALID_ID, "code": CoreErrorCode.INVALID_ID}, status=400)
        return None


# Pages whose front ends are not ours (ReDoc, DRF's browsable API, Django's admin) style
# themselves inline, and ReDoc searches in a worker it makes from a blob: there the policy
# allows both. Scripts stay the shop's own files everywhere.
THIRD_PARTY_PAGES = ("/api/", "/admin/", "/api-auth/")
THIRD_PARTY_ALLOWANCES = {"style-src": [SELF, UNSAFE_INLINE], "worker-src": [SELF, "blob:"]}


class ThirdPartyPagesCSPMiddleware(CSPMiddleware):
    """django-csp's ``CONTENT_SECURITY_POLICY`` on every HTML page (the storefront, the API docs,
    the browsable API, the admin): scripts only from the shop's own files. The storefront keeps
    its tokens in ``sessionStorage``, where any injected script could read them.

    What it adds to django-csp: the allowances above on the third-party pages, and no header on
    other responses (JSON, static files), where a browser enforces no policy: the API's hot
    paths do not build one."""

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        return super().process_response(request, response)

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if request.path.startswith(THIRD_PARTY_PAGES):
            parts.update = {**THIRD_PARTY_ALLOWANCES, **(parts.update or {})}
        return parts
