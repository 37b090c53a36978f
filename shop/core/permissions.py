from collections.abc import Sequence
from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

# What a write does to the view's model, named as the admin's model permissions name it.
WRITE_ACTIONS = {"POST": "add", "PUT": "change", "PATCH": "change", "DELETE": "delete"}


class StaffWriteOrReadOnly(BasePermission):
    """Anyone reads; staff write what the admin's model permissions allow them (SPEC §4:
    anonymous 401, shopper 403).

    A write needs the permission of its method over the view's model (POST ``add``, PUT and
    PATCH ``change``, DELETE ``delete``), as ``DjangoModelPermissions`` does, so the API and
    the admin give a staff member the same rights; superusers hold them all. An action that
    writes another model, or whose method does not say what it does, names its permissions in
    the view's ``write_permissions`` (``{action: ("app_label.codename", ...)}``).
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        user = request.user
        if not (user and user.is_authenticated and user.is_staff):
            return False
        if getattr(view, str(request.method).lower(), None) is None:
            return True  # the view has no such method: nothing is written, DRF answers 405
        required = self.required_permissions(request, view)
        return required is not None and bool(user.has_perms(required))

    def required_permissions(self, request: Request, view: Any) -> Sequence[str] | None:
        """The permissions this write needs; None when the view does not say (refused)."""
        named: dict[str, Sequence[str]] = getattr(view, "write_permissions", {})
        action = getattr(view, "action", None)
        if action in named:
            return named[action]
        write = WRITE_ACTIONS.get(str(request.method))
        if write is None or not hasattr(view, "get_queryset"):
            return None
        opts = view.get_queryset().model._meta
        return [f"{opts.app_label}.{write}_{opts.model_name}"]
