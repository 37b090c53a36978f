from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse

from shop.core.health import health_check


def healthz(request: HttpRequest) -> JsonResponse:
    checks = health_check()
    ok = all(value == "ok" for value in checks.values())
    body = {"status": "ok" if ok else "unavailable", "mode": settings.RUN_MODE, **checks}
    return JsonResponse(body, status=200 if ok else 503)


def json_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)


def json_server_error(request: HttpRequest, *args: Any) -> JsonResponse:
    return JsonResponse({"detail": "Internal server error.", "code": "server_error"}, status=500)


def json_bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse({"detail": "Bad request.", "code": "bad_request"}, status=400)
