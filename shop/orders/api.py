import functools
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypedDict, cast

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shop.accounts.models import User
from shop.catalog.api import CURRENCY_PARAMETER
from shop.core import metrics
from shop.core.errors import Conflict, ErrorSerializer, ShopError
from shop.core.fields import MoneyField, RateField
from shop.core.ids import IdField
from shop.core.throttling import throttle_hit
from shop.currency.selectors import base_currency_code, currency_active_get
from shop.domain.money import format_amount
from shop.domain.orders import MAX_ORDER_LINES, MAX_QUANTITY, MIN_QUANTITY
from shop.orders import selectors
from shop.orders.errors import OrderErrorCode
from shop.orders.models import Order, OrderEvent, OrderLine
from shop.orders.payments import MAX_REFERENCE, PROVIDERS
from shop.orders.selectors import CartQuote
from shop.orders.services import cart as cart_services
from shop.orders.services import lifecycle
from shop.orders.services.orders import PlacedOrder, order_create

DECIMAL_STRING = {"type": "string", "format": "decimal", "example": "128.89"}
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The same key from the same user within 24 hours returns the first order again "
    "(1 to 255 printable ASCII characters).",
)


TOO_MANY_ORDERS = "Too many orders; try again later."


def order_throttle(request: Request) -> None:
    """Orders per shopper (THROTTLE_ORDERS_PER_USER), checkout and direct orders together."""
    throttle_hit(
        scope="orders:user",
        ident=str(request.user.pk),
        setting="THROTTLE_ORDERS_PER_USER",
        message=TOO_MANY_ORDERS,
    )


def quantity_field(**kwargs: Any) -> serializers.IntegerField:
    """shop.domain.orders.quantity_allowed, as a field: out of range is a field error."""
    return serializers.IntegerField(min_value=MIN_QUANTITY, max_value=MAX_QUANTITY, **kwargs)


def max_order_sum_field() -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=24,
        decimal_places=4,
        min_value=Decimal(0),
        required=False,
        allow_null=True,
        help_text="Refuse (409) if the order sum, in the order currency, would be larger.",
    )


# --- Orders -------------------------------------------------------------------


class OrderLineSerializer(serializers.ModelSerializer[OrderLine]):
    unit_price = MoneyField()
    line_total = MoneyField()

    class Meta:
        model = OrderLine
        fields = ("goods", "goods_name", "quantity", "price_id", "unit_price", "line_total")


class OrderEventSerializer(serializers.Serializer[OrderEvent]):
    """One transition of the order (SPEC §13): from, to, at, by whom (and why, for a cancellation)."""

    # "from" is a Python keyword: both statuses are declared through the class namespace.
    locals()["from"] = serializers.ChoiceField(choices=Order.Status.choices, source="from_status")
    locals()["to"] = serializers.ChoiceField(choices=Order.Status.choices, source="to_status")
    at = serializers.DateTimeField()
    by = serializers.ChoiceField(choices=OrderEvent.By.choices)
    staff = serializers.IntegerField(
        source="staff_id", allow_null=True, help_text="The staff member's id (by staff)."
    )
    reason = serializers.ChoiceField(
        choices=OrderEvent.Reason.choices,
        allow_blank=True,
        help_text="Why it was cancelled; empty otherwise.",
    )


class OrderSerializer(serializers.ModelSerializer[Order]):
    currency = serializers.CharField(source="currency_id")
    exchange_rate = RateField()
    exchange_rate_id = serializers.IntegerField(source="rate_id")
    items = OrderLineSerializer(many=True)
    subtotal = MoneyField()
    markup = MoneyField()
    fee = MoneyField()
    total = MoneyField()
    order_sum = serializers.SerializerMethodField()
    events = OrderEventSerializer(many=True, source="history")

    class Meta:
        model = Order
        fields = (
            "id", "status", "created_at", "currency", "exchange_rate", "exchange_rate_id",
            "items", "subtotal", "markup", "fee", "total", "order_sum",
            "payment_method", "payment_reference", "events",
        )  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(DECIMAL_STRING)
    def get_order_sum(self, order: Order) -> str:
        return format_amount(order.order_sum, order.currency.decimals)

    def to_representation(self, instance: Order) -> dict[str, Any]:
        """What the fields above make of an order, written out: DRF builds a ModelSerializer's
        fields anew for every instance, which cost more than placing the order itself.
        The fields still describe it (OpenAPI schema), and a test holds both to the same output."""
        return order_representation(instance)


# The fields of OrderSerializer's output, unbound: none of them keeps state between calls.
_CREATED_AT, _RATE, _MONEY = serializers.DateTimeField(), RateField(), MoneyField()


def order_representation(order: Order) -> dict[str, Any]:
    money = _MONEY.to_representation
    return {
        "id": order.id,
        "status": order.status,
        "created_at": _CREATED_AT.to_representation(order.created_at),
        "currency": order.currency_id,
        "exchange_rate": _RATE.to_representation(order.exchange_rate),
        "exchange_rate_id": order.rate_id,
        "items": [
            {
                "goods": line.goods_id,
                "goods_name": line.goods_name,
                "quantity": line.quantity,
                "price_id": line.price_id,
                "unit_price": money(line.unit_price),
                "line_total": money(line.line_total),
            }
            for line in order.lines
        ],
        "subtotal": money(order.subtotal),
        "markup": money(order.markup),
        "fee": money(order.fee),
        "total": money(order.total),
        "order_sum": format_amount(order.order_sum, order.currency.decimals),
        "payment_method": order.payment_method,
        "payment_reference": order.payment_reference,
        "events": [
            {
                "from": event.from_status,
                "to": event.to_status,
                "at": _CREATED_AT.to_representation(event.at),
                "by": event.by,
                "staff": event.staff_id,
                "reason": event.reason,
            }
            for event in order.history
        ],
    }


class OrderItemInputSerializer(serializers.Serializer[Any]):
    goods = IdField()
    quantity = quantity_field()


class OrderCreateSerializer(serializers.Serializer[Any]):
    currency = serializers.CharField(max_length=3, required=False, help_text="Default: the base currency.")
    # Refused before each line is read: a body of 1 MiB could hold 30,000 lines.
    items = OrderItemInputSerializer(many=True, allow_empty=False, max_length=MAX_ORDER_LINES)  # type: ignore[call-arg]  # DRF ≥ 3.14 has it; the stubs lag
    max_order_sum = max_order_sum_field()


class Conflict409Serializer(serializers.Serializer[Any]):
    detail = serializers.CharField()
    code = serializers.CharField()
    order_sum = serializers.CharField(help_text="The computed order sum, in the order currency.")


# The schema of both order-creating operations (direct and checkout), but for their body.
ORDER_CREATING: dict[str, Any] = {
    "responses": {
        201: OrderSerializer,
        400: OpenApiResponse(description="Invalid input (DRF field errors or {detail, code})."),
        401: ErrorSerializer,
        409: Conflict409Serializer,
        422: OpenApiResponse(ErrorSerializer, description="Idempotency-Key reused with another body."),
    },
    "parameters": [IDEMPOTENCY_HEADER],
}


class Placing(TypedDict):
    """What every order-creating service takes from a request, besides what it orders."""

    user: User
    currency_code: str
    max_order_sum: Decimal | None
    idempotency_key: str | None


def placing_input(
    request: Request, serializer_class: type[serializers.Serializer[Any]]
) -> tuple[Placing, Any]:
    """The request throttled (orders per shopper) and its body validated: the arguments every
    order-creating service takes, and the validated body."""
    order_throttle(request)
    data = serializer_class(data=request.data)
    data.is_valid(raise_exception=True)
    placing = Placing(
        user=cast(User, request.user),  # the views require a login
        currency_code=data.validated_data.get("currency") or base_currency_code(),
        max_order_sum=data.validated_data.get("max_order_sum"),
        idempotency_key=request.headers.get("Idempotency-Key"),
    )
    return placing, data.validated_data


def counted_order(view: Callable[..., Response]) -> Callable[..., Response]:
    """``tickshop_orders_total{outcome}`` for an order-creating view: created, replayed (an
    Idempotency-Key's earlier order), order_sum_too_high (the 409 of max_order_sum) or invalid."""

    @functools.wraps(view)
    def counted(*args: Any, **kwargs: Any) -> Response:
        try:
            response = view(*args, **kwargs)
        except ShopError as exc:
            if isinstance(exc, Conflict) and exc.code == OrderErrorCode.ORDER_SUM_TOO_HIGH:
                metrics.ORDERS.labels(metrics.ORDER_SUM_TOO_HIGH).inc()
            elif exc.status_code < 500:  # a service down (503) is no fault of the order
                metrics.ORDERS.labels(metrics.ORDER_INVALID).inc()
            raise
        except (exceptions.ValidationError, exceptions.ParseError):
            metrics.ORDERS.labels(metrics.ORDER_INVALID).inc()
            raise
        replayed = response.get("Idempotent-Replayed") == "true"
        metrics.ORDERS.labels(metrics.ORDER_REPLAYED if replayed else metrics.ORDER_CREATED).inc()
        return response

    return counted


def placed_response(placed: PlacedOrder) -> Response:
    response = Response(OrderSerializer(placed.order).data, status=status.HTTP_201_CREATED)
    if placed.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


class PaymentSerializer(serializers.Serializer[Any]):
    method = serializers.ChoiceField(
        choices=[(p.name, p.description) for p in PROVIDERS.values()], help_text="How the order was paid."
    )
    reference = serializers.CharField(
        max_length=MAX_REFERENCE, required=False, default="", allow_blank=True, help_text="Its reference."
    )


class TransitionConflictSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()
    code = serializers.CharField(help_text="invalid_transition or cancel_window_passed")
    status = serializers.ChoiceField(choices=Order.Status.choices, help_text="The order's current status.")


TRANSITION_RESPONSES: dict[int, Any] = {
    200: OrderSerializer,
    400: ErrorSerializer,
    401: ErrorSerializer,
    403: ErrorSerializer,
    404: ErrorSerializer,
    409: TransitionConflictSerializer,
}
CANCEL_HELP = (
    "Cancel the order and return its units to stock. Its shopper may while it is placed and within "
    "ORDER_CANCEL_SECONDS of its creation; staff while it is placed or paid (any order)."
)
# The staff-only moves of an order (pay, complete): a POST on one order.
STAFF_TRANSITION = action(
    detail=True,
    methods=["post"],
    filter_backends=(),
    pagination_class=None,
    permission_classes=(IsAdminUser,),
)
PAY_HELP = "Staff: record the order's payment (a placed order becomes paid)."


class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Order]):
    """The shopper's own orders; another user's order is 404."""

    queryset = Order.objects.none()  # for the schema; requests use get_queryset
    serializer_class = OrderSerializer
    permission_classes = (IsAuthenticated,)
    filter_backends = ()

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.order_list(user=self.request.user)

    @extend_schema(request=OrderCreateSerializer, **ORDER_CREATING)
    @counted_order
    def create(self, request: Request) -> Response:
        placing, data = placing_input(request, OrderCreateSerializer)
        items = [(item["goods"], item["quantity"]) for item in data["items"]]
        return placed_response(order_create(**placing, items=items))

    @extend_schema(request=None, responses=TRANSITION_RESPONSES, description=CANCEL_HELP)
    @action(detail=True, methods=["post"], filter_backends=(), pagination_class=None)
    def cancel(self, request: Request, pk: str) -> Response:
        user = cast(User, request.user)
        order = lifecycle.order_cancel(order_id=int(pk), actor=lifecycle.Actor.of(user), user=user)
        return Response(OrderSerializer(order).data)

    @extend_schema(request=PaymentSerializer, responses=TRANSITION_RESPONSES, description=PAY_HELP)
    @STAFF_TRANSITION
    def pay(self, request: Request, pk: str) -> Response:
        data = PaymentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = lifecycle.order_pay(
            order_id=int(pk), actor=lifecycle.Actor.of(cast(User, request.user)), **data.validated_data
        )
        return Response(OrderSerializer(order).data)

    @extend_schema(
        request=None, responses=TRANSITION_RESPONSES, description="Staff: a paid order is completed."
    )
    @STAFF_TRANSITION
    def complete(self, request: Request, pk: str) -> Response:
        order = lifecycle.order_complete(order_id=int(pk), actor=lifecycle.Actor.of(cast(User, request.user)))
        return Response(OrderSerializer(order).data)


# --- Cart ---------------------------------------------------------------------


class CartLineSerializer(serializers.Serializer[Any]):
    goods = serializers.IntegerField(source="goods.id")
    goods_name = serializers.CharField(source="goods.name")
    quantity = serializers.IntegerField()
    unit_price = MoneyField(allow_null=True)
    added_price = MoneyField(allow_null=True)
    line_total = MoneyField(allow_null=True)
    held = serializers.IntegerField(
        help_text="Units this line holds for the cart (CART_RESERVATION_SECONDS)."
    )
    held_until = serializers.DateTimeField(
        allow_null=True, help_text="Until when it holds them; null: no hold."
    )


class CartQuoteSerializer(serializers.Serializer[Any]):
    """The cart priced now, in ``currency``: what an order would cost at this moment."""

    currency = serializers.CharField(source="currency.code")
    exchange_rate = RateField(source="rate.rate")
    items = CartLineSerializer(many=True, source="lines")
    subtotal = MoneyField(source="sums.subtotal")
    markup = MoneyField(source="sums.markup")
    fee = MoneyField(source="sums.fee")
    total = MoneyField(source="sums.total")
    order_sum = serializers.SerializerMethodField()
    unavailable = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Goods in the cart that cannot be ordered now (left out of the sums).",
    )

    @extend_schema_field(DECIMAL_STRING)
    def get_order_sum(self, quote: CartQuote) -> str:
        return format_amount(quote.sums.order_sum, quote.currency.decimals)


class CartItemInputSerializer(serializers.Serializer[Any]):
    goods = IdField()
    quantity = quantity_field(default=1)


class CartQuantitySerializer(serializers.Serializer[Any]):
    quantity = quantity_field()


class CheckoutSerializer(serializers.Serializer[Any]):
    currency = serializers.CharField(max_length=3, required=False, help_text="Default: the base currency.")
    max_order_sum = max_order_sum_field()


class CartBaseView(APIView):
    permission_classes = (IsAuthenticated,)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # The currency of the answer is checked before the cart changes: a bad ?currency= is a
        # 400 that changed nothing.
        self.currency = currency_active_get(code=request.query_params.get("currency") or base_currency_code())

    def quote(self, request: Request) -> Response:
        quote = selectors.cart_quote(user=request.user, currency=self.currency)
        return Response(CartQuoteSerializer(quote).data)


class CartView(CartBaseView):
    """The shopper's cart, quoted at current prices in ``?currency=``."""

    @extend_schema(
        parameters=[CURRENCY_PARAMETER], responses={200: CartQuoteSerializer, 400: ErrorSerializer}
    )
    def get(self, request: Request) -> Response:
        return self.quote(request)

    @extend_schema(parameters=[CURRENCY_PARAMETER], responses={200: CartQuoteSerializer})
    def delete(self, request: Request) -> Response:
        cart_services.cart_clear(user=request.user)
        return self.quote(request)


class CartItemsView(CartBaseView):
    @extend_schema(
        request=CartItemInputSerializer,
        parameters=[CURRENCY_PARAMETER],
        responses={201: CartQuoteSerializer, 400: ErrorSerializer},
        description="Add goods; a goods already in the cart has its quantity raised. Answers the new quote.",
    )
    def post(self, request: Request) -> Response:
        data = CartItemInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cart_services.cart_add_item(
            user=request.user, goods_id=data.validated_data["goods"], quantity=data.validated_data["quantity"]
        )
        response = self.quote(request)
        response.status_code = status.HTTP_201_CREATED
        return response


class CartItemView(CartBaseView):
    @extend_schema(
        request=CartQuantitySerializer,
        parameters=[CURRENCY_PARAMETER],
        responses={200: CartQuoteSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def patch(self, request: Request, goods_id: str) -> Response:
        data = CartQuantitySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cart_services.cart_set_quantity(
            user=request.user, goods_id=int(goods_id), quantity=data.validated_data["quantity"]
        )
        return self.quote(request)

    @extend_schema(
        parameters=[CURRENCY_PARAMETER], responses={200: CartQuoteSerializer, 404: ErrorSerializer}
    )
    def delete(self, request: Request, goods_id: str) -> Response:  # checked by IdPathMiddleware
        cart_services.cart_remove_item(user=request.user, goods_id=int(goods_id))
        return self.quote(request)


class CheckoutView(APIView):
    """Order the cart's contents at the current prices and rate, and empty the cart."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(request=CheckoutSerializer, **ORDER_CREATING)
    @counted_order
    def post(self, request: Request) -> Response:
        placing, _ = placing_input(request, CheckoutSerializer)
        return placed_response(cart_services.cart_checkout(**placing))
