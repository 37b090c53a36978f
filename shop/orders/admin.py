"""Orders in the admin: read-only, moved only by the lifecycle services (SPEC §13).

Staff see an order, its lines and its events (who moved it, when, from what to what); they never
edit its money fields or its status. Its status moves by the list's actions, "Mark paid", "Mark
completed" and "Cancel", each a call of ``order_pay``, ``order_complete`` or ``order_cancel`` as
the staff member (``Actor.of``): the services' rules hold here as in the API, each move is
recorded with its event, and a cancellation returns the units its order took.
"""

from collections.abc import Callable
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db import router, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from shop.accounts.models import User
from shop.core.errors import ShopError
from shop.orders.models import Cart, CartItem, Order, OrderEvent, OrderLine
from shop.orders.payments import MAX_REFERENCE, PROVIDERS
from shop.orders.services.lifecycle import Actor, order_cancel, order_complete, order_pay

MARK_PAID_TEMPLATE = "admin/orders/order/mark_paid.html"


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    fields = ("goods", "goods_name", "quantity", "price_id", "unit_price", "line_total", "stock_taken")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OrderEventInline(admin.TabularInline):
    """The order's transitions, as the services recorded them."""

    model = OrderEvent
    extra = 0
    can_delete = False
    fields = ("at", "from_status", "to_status", "by", "staff", "reason")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MarkPaidForm(forms.Form):
    """How the selected orders were paid: one method, and a reference per order (a bank transfer's
    own; the provider says whether it is required)."""

    method = forms.ChoiceField(
        choices=[(name, f"{name}: {provider.description}") for name, provider in PROVIDERS.items()]
    )

    def __init__(self, *args: Any, orders: list[Order], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.orders = orders
        for order in orders:
            self.fields[self.reference_field(order.pk)] = forms.CharField(
                required=False, max_length=MAX_REFERENCE, label=f"Reference of order {order.pk}"
            )

    @staticmethod
    def reference_field(order_id: int) -> str:
        return f"reference_{order_id}"

    def rows(self) -> list[tuple[Order, forms.BoundField]]:
        """Each order with its reference's field, for the page."""
        return [(order, self[self.reference_field(order.pk)]) for order in self.orders]

    def reference(self, order_id: int) -> str:
        return str(self.cleaned_data.get(self.reference_field(order_id), ""))


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Staff see every order, its lines and its events, and move it by the actions only: the
    detail page is read-only (a change is a transition, which only the lifecycle services make).
    Each selected order moves in a transaction of its own, in id order; an order that may not
    move is named in a message with the service's reason, and the others move all the same."""

    list_display = ("id", "user", "status", "created_at", "currency", "order_sum", "payment_method")
    list_filter = ("status", "currency", ("created_at", admin.DateFieldListFilter))
    search_fields = ("id", "user__email")
    date_hierarchy = "created_at"
    inlines = (OrderLineInline, OrderEventInline)
    list_select_related = ("user", "currency")
    fields = (
        "user", "status", "created_at", "currency", "rate", "exchange_rate",
        "subtotal", "markup", "fee", "total", "order_sum", "payment_method", "payment_reference",
    )  # fmt: skip
    readonly_fields = fields
    actions = ("mark_paid", "mark_completed", "cancel")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """The list's actions need it; an order's own page is read-only (``obj`` given)."""
        return obj is None and super().has_change_permission(request)

    # --- actions: the lifecycle services, order by order ----------------------------------

    @admin.action(description="Mark paid", permissions=["change"])
    def mark_paid(self, request: HttpRequest, queryset: QuerySet[Order]) -> TemplateResponse | None:
        """A page first asks how they were paid (MarkPaidForm); its POST records the payments."""
        orders = list(queryset.select_related("user", "currency").order_by("id"))
        form = MarkPaidForm(request.POST if "apply" in request.POST else None, orders=orders)
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "title": "Mark orders paid",
                "opts": self.model._meta,
                "form": form,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "media": self.media,
            }
            return TemplateResponse(request, MARK_PAID_TEMPLATE, context)
        method = form.cleaned_data["method"]
        self._move_each(
            request,
            orders,
            done="marked paid",
            move=lambda order, actor: order_pay(
                order_id=order.pk, actor=actor, method=method, reference=form.reference(order.pk)
            ),
        )
        return None

    @admin.action(description="Mark completed", permissions=["change"])
    def mark_completed(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._move_each(
            request,
            list(queryset.order_by("id")),
            done="marked completed",
            move=lambda order, actor: order_complete(order_id=order.pk, actor=actor),
        )

    @admin.action(description="Cancel (returns the units to stock)", permissions=["change"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._move_each(
            request,
            list(queryset.order_by("id")),
            done="cancelled",
            move=lambda order, actor: order_cancel(order_id=order.pk, actor=actor),
        )

    def _move_each(
        self, request: HttpRequest, orders: list[Order], *, done: str, move: Callable[[Order, Actor], Order]
    ) -> None:
        actor = Actor.of(cast(User, request.user))
        moved: list[int] = []
        for order in orders:
            try:
                with transaction.atomic(using=router.db_for_write(Order)):
                    moved_order = move(order, actor)
                    self.log_change(request, moved_order, f"{done.capitalize()}.")
            except ShopError as error:
                status = error.extra.get("status")
                reason = f"{error.message} It is {status}." if status else error.message
                self.message_user(request, f"Order {order.pk} was not {done}: {reason}", messages.ERROR)
            else:
                moved.append(order.pk)
        if moved:
            listed = ", ".join(str(order_id) for order_id in moved)
            self.message_user(request, f"{len(moved)} order(s) {done}: {listed}.", messages.SUCCESS)


class CartItemInline(admin.TabularInline):
    model = CartItem
    extra = 0
    raw_id_fields = ("goods",)


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):
    list_display = ("user", "updated_at")
    search_fields = ("user__email",)
    inlines = (CartItemInline,)
