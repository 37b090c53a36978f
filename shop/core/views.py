import hmac
import threading
from typing import Any, ClassVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SCHEMA_KWARGS, SpectacularAPIView
from rest_framework.request import Request

from shop.core.errors import CoreErrorCode
from shop.core.health import health_check, health_reports
from shop.core.metrics import metrics_text

METRICS_UNAUTHORIZED = "Send Authorization: Bearer <METRICS_TOKEN>."


def healthz(request: HttpRequest) -> JsonResponse:
    """200 while the database (and Redis) answer, else 503. A stalled ticker keeps it at 200 (the web
    tier is fine; a load balancer must not pull it) but ``?strict=1`` answers 503 then."""
    checks = health_check()
    ok = all(value == "ok" for value in checks.values())
    reports = health_reports() if checks["database"] == "ok" else {}
    body: dict[str, Any] = {"status": "ok" if ok else "unavailable", "mode": settings.RUN_MODE, **checks}
    body.update({name: report.body for name, report in reports.items()})
    if ok and request.GET.get("strict") not in (None, "", "0", "false"):
        failing = [name for name, report in reports.items() if not report.ok]
        if failing:
            body["status"], ok = "degraded", False
            body["failing"] = failing
    return JsonResponse(body, status=200 if ok else 503)


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus' text format, every process of the deployment summed (SPEC §11)."""
    token = settings.METRICS_TOKEN
    if not token:
        return json_not_found(request)
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        response = JsonResponse(
            {"detail": METRICS_UNAUTHORIZED, "code": CoreErrorCode.NOT_AUTHENTICATED}, status=401
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(metrics_text(), content_type="text/plain; version=0.0.4; charset=utf-8")


def json_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse({"detail": "Not found.", "code": CoreErrorCode.NOT_FOUND}, status=404)


def json_server_error(request: HttpRequest, *args: Any) -> JsonResponse:
    return JsonResponse({"detail": "Internal server error.", "code": CoreErrorCode.SERVER_ERROR}, status=500)


def json_bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse({"detail": "Bad request.", "code": CoreErrorCode.BAD_REQUEST}, status=400)


class SchemaView(SpectacularAPIView):
    """``/api/schema/``: drf-spectacular's view, generated and rendered once per process and
    format. The schema changes only with the code, and making it costs about a second of
    CPU: per request, a burst of anonymous requests for it would hold every web thread.
    The ``lang`` and ``version`` parameters are not served (the shop has one of each)."""

    _rendered: ClassVar[dict[type, tuple[bytes, str, str]]] = {}  # renderer -> (body, type, filename)
    _lock = threading.Lock()

    @extend_schema(**SCHEMA_KWARGS)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        renderer = request.accepted_renderer
        with self._lock:  # one thread generates; a burst waits for it instead of repeating it
            if type(renderer) not in self._rendered:
                response = self._get_schema_response(request)  # type: ignore[no-untyped-call]
                body = renderer.render(
                    response.data, request.accepted_media_type, self.get_renderer_context()
                )
                self._rendered[type(renderer)] = (
                    body,
                    f"{renderer.media_type}; charset={renderer.charset}"
                    if renderer.charset
                    else renderer.media_type,
                    response["Content-Disposition"],
                )
        body, content_type, disposition = self._rendered[type(renderer)]
        return HttpResponse(body, content_type=content_type, headers={"Content-Disposition": disposition})
