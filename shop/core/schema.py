"""OpenAPI post-processing: the error answers every operation can give, documented.

Views document their own rule-specific errors (409, 422, ...). What is common
to all of them comes from one place, here, so the schema names every status
the API really answers (the fuzz test checks it): 401 everywhere (a bad or
expired token is refused even on public reads) and 503 when a service the
shop needs is down; 400 wherever there is input (always an object: DRF's
field errors or ``{detail, code}``), ids in paths and pages' limits, offsets and cursors
included; 403 on writes and on the user endpoints; 404 where the path names an object and
for other users; 413 and 415 for bodies; 429 with ``Retry-After`` on the
throttled account endpoints. The error body's ``code`` lists every code the shop
names, from the apps' error-code enums (``shop.core.errors.error_code_enums``).
"""

from typing import Any

from drf_spectacular import openapi
from rest_framework.permissions import SAFE_METHODS

from shop.core.errors import error_code_enums
from shop.core.permissions import StaffWriteOrReadOnly
from shop.core.throttling import THROTTLED_PATHS

ERROR = {"$ref": "#/components/schemas/Error"}
VALIDATION = {
    "description": "Invalid input: DRF's field errors ({field: [messages]}) or {detail, code}.",
    "content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}},
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Whole seconds to wait before trying again.",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    }
}
UNSAFE = {"post", "put", "patch", "delete"}
METHODS = UNSAFE | {"get", "head", "options", "trace"}


def _error(description: str, **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR}}, **extra}


# Codes that DRF, Djoser and Simple JWT give their own errors (the shop keeps them as they are).
FRAMEWORK_CODES = (
    "authentication_failed", "permission_denied", "method_not_allowed",
    "not_acceptable", "unsupported_media_type", "parse_error", "throttled", "token_not_valid",
)  # fmt: skip


def error_codes_description() -> str:
    """The ``code`` field's description: every enum's codes, named once, in ``<app>/errors.py``."""
    lines = ["A stable code naming the error; clients branch on it, never on `detail`.", ""]
    for name, enum in sorted(error_code_enums().items()):
        doc = (vars(enum).get("__doc__") or "").strip().splitlines()
        about = f" ({doc[0].rstrip('.')})" if doc else ""
        lines.append(f"- {name}{about}: " + ", ".join(f"`{code.value}`" for code in enum))
    lines.append(
        "- framework (DRF, Djoser, Simple JWT), among others: "
        + ", ".join(f"`{code}`" for code in FRAMEWORK_CODES)
    )
    return "\n".join(lines)


def document_error_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    error = result.get("components", {}).get("schemas", {}).get("Error")
    if error is not None:
        error["properties"]["code"]["description"] = error_codes_description()
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            parameters = operation.get("parameters", [])
            has_body = "requestBody" in operation
            common: dict[str, dict[str, Any]] = {
                "401": _error("The credentials sent are missing, invalid or expired."),
                "503": _error("A service the shop depends on is unavailable; try again shortly."),
            }
            # ...and wherever an id is in the path (not a whole number in range: 400, SPEC §6)
            if method in UNSAFE or has_body or any(p.get("in") in ("query", "path") for p in parameters):
                # Field errors or {detail, code}: an object either way, whatever a view documented.
                responses["400"] = VALIDATION
            if any(p.get("in") == "path" for p in parameters):
                common["404"] = _error("Not found (or not yours).")
            if path.startswith("/auth/users/"):
                common["404"] = _error("Not found (users see only themselves).")
            if method in UNSAFE or path.startswith("/auth/users/"):
                common["403"] = _error("Not allowed for this user.")
            if has_body:
                common["413"] = _error("The request body is larger than the shop accepts.")
                common["415"] = _error("Unsupported media type; send JSON.")
            if THROTTLED_PATHS.get(path) == method:
                common["429"] = _error("Too many attempts; see the Retry-After header.", headers=RETRY_AFTER)
            for status, response in common.items():
                responses.setdefault(status, response)
    return result


# Paths that end in the name of what they do: their operation id is the path alone.
OPERATION_WORDS = frozenset(
    {
        "create", "refresh", "verify", "blacklist",  # /auth/jwt/
        "activation", "resend_activation", "set_password", "reset_password", "reset_password_confirm",
        "set_email", "reset_email", "reset_email_confirm",  # /auth/users/
        "checkout", "generate_prices", "redeliver",
    }
)  # fmt: skip


class AutoSchema(openapi.AutoSchema):
    """Operation ids that read well in generated clients.

    drf-spectacular names an operation after its path and a CRUD verb, which
    doubles the verb where the path already names the operation
    (``auth_jwt_create_create``, ``cart_checkout_create``,
    ``sales_generate_prices_update``). Those keep their path alone:
    ``auth_jwt_create``, ``cart_checkout``, ``sales_generate_prices``.
    """

    def get_auth(self) -> list[dict[str, list[str]]]:
        """Public reads say so (``{}``: no credentials needed), so generators accept an anonymous client."""
        auths = list(super().get_auth())
        anonymous_reads = any(isinstance(p, StaffWriteOrReadOnly) for p in self.view.get_permissions())
        if anonymous_reads and self.method in SAFE_METHODS and {} not in auths:
            auths.append({})
        return auths

    def get_operation_id(self) -> str:
        tokens = [token.replace("-", "_") for token in self._tokenize_path()]
        if tokens and tokens[-1] in OPERATION_WORDS and self.method in ("POST", "PUT"):
            return "_".join(tokens)
        return str(super().get_operation_id())
