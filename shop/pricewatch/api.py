"""Alerts and standing orders (SPEC §15): the shopper's own; another user's is 404."""

from typing import Any, cast

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from shop.accounts.models import User
from shop.core.errors import ErrorSerializer
from shop.core.ids import IdField
from shop.currency.selectors import base_currency_code
from shop.domain.money import format_amount
from shop.orders.api import DECIMAL_STRING, quantity_field
from shop.pricewatch import selectors
from shop.pricewatch.models import Alert, StandingOrder
from shop.pricewatch.services import watches


def _amount_field(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=24, decimal_places=4, **kwargs)


class _AmountsMixin:
    """Amounts in the row's currency, with exactly its decimals."""

    def _amount(self, row: Alert | StandingOrder, value: Any) -> str | None:
        return None if value is None else format_amount(value, row.currency.decimals)


class AlertSerializer(_AmountsMixin, serializers.ModelSerializer[Alert]):
    goods_name = serializers.CharField(source="goods.name", read_only=True)
    currency = serializers.CharField(source="currency_id")
    price = serializers.SerializerMethodField()
    value = serializers.SerializerMethodField(help_text="The price that fired it, in its currency.")
    status = serializers.ChoiceField(choices=["open", "triggered"])

    class Meta:
        model = Alert
        fields = (
            "id", "goods", "goods_name", "currency", "direction", "price", "status",
            "created_at", "triggered_at", "price_id", "value",
        )  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(DECIMAL_STRING)
    def get_price(self, alert: Alert) -> str | None:
        return self._amount(alert, alert.price)

    @extend_schema_field({**DECIMAL_STRING, "nullable": True})
    def get_value(self, alert: Alert) -> str | None:
        return self._amount(alert, alert.value)


class AlertCreateSerializer(serializers.Serializer[Any]):
    goods = IdField()
    currency = serializers.CharField(max_length=3, required=False, help_text="Default: the base currency.")
    direction = serializers.ChoiceField(choices=Alert.Direction.choices)
    price = _amount_field(min_value=0, help_text="In the alert's currency, > 0.")

    def validate_price(self, value: Any) -> Any:
        if value <= 0:
            raise serializers.ValidationError("Must be greater than zero.")
        return value


class StandingOrderSerializer(_AmountsMixin, serializers.ModelSerializer[StandingOrder]):
    goods_name = serializers.CharField(source="goods.name", read_only=True)
    currency = serializers.CharField(source="currency_id")
    limit_price = serializers.SerializerMethodField()

    class Meta:
        model = StandingOrder
        fields = (
            "id", "goods", "goods_name", "quantity", "currency", "limit_price", "expires_at",
            "status", "created_at", "closed_at", "order",
        )  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(DECIMAL_STRING)
    def get_limit_price(self, standing: StandingOrder) -> str | None:
        return self._amount(standing, standing.limit_price)


class StandingOrderCreateSerializer(serializers.Serializer[Any]):
    goods = IdField()
    quantity = quantity_field()
    currency = serializers.CharField(max_length=3, required=False, help_text="Default: the base currency.")
    limit_price = _amount_field(min_value=0, help_text="The most one unit may cost, in the order currency.")
    expires_at = serializers.DateTimeField(help_text="In the future, at most 7 days ahead.")

    def validate_limit_price(self, value: Any) -> Any:
        if value <= 0:
            raise serializers.ValidationError("Must be greater than zero.")
        return value


class _ListFilter(serializers.Serializer[Any]):
    goods = IdField(required=False)


class AlertFilter(_ListFilter):
    status = serializers.ChoiceField(choices=["open", "triggered"], required=False)


class StandingOrderFilter(_ListFilter):
    status = serializers.ChoiceField(choices=StandingOrder.Status.choices, required=False)


class _OwnViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Any]):
    """The shopper's own rows (another user's are 404); a list is filtered by ``list_filter``."""

    permission_classes = (IsAuthenticated,)
    filter_backends = ()
    list_filter: type[_ListFilter]

    def rows(self, *, user: User, goods_id: int | None = None, status: str | None = None) -> Any:
        raise NotImplementedError

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        filters: dict[str, Any] = {}
        if self.action == "list":
            data = self.list_filter(data=self.request.query_params)
            data.is_valid(raise_exception=True)
            filters = {
                "goods_id": data.validated_data.get("goods"),
                "status": data.validated_data.get("status"),
            }
        return self.rows(user=cast(User, self.request.user), **filters)


class AlertViewSet(mixins.DestroyModelMixin, _OwnViewSet):
    """The shopper's price alerts: each fires once, on the first committed price at or below
    (``below``) / at or above (``above``) its price in its currency."""

    queryset = Alert.objects.none()  # for the schema; requests use get_queryset
    serializer_class = AlertSerializer
    list_filter = AlertFilter
    rows = staticmethod(selectors.alert_list)

    @extend_schema(parameters=[AlertFilter])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=AlertCreateSerializer,
        responses={201: AlertSerializer, 400: ErrorSerializer, 401: ErrorSerializer, 409: ErrorSerializer},
    )
    def create(self, request: Request) -> Response:
        data = AlertCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        body = data.validated_data
        alert = watches.alert_create(
            user=cast(User, request.user),
            goods_id=body["goods"],
            currency_code=body.get("currency") or base_currency_code(),
            direction=body["direction"],
            price=body["price"],
        )
        return Response(AlertSerializer(alert).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        alert = self.get_object()  # 404 unless the shopper's
        watches.alert_delete(user=cast(User, request.user), alert_id=alert.id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class StandingOrderViewSet(_OwnViewSet):
    """The shopper's standing orders ("buy at or below"): the first committed price at which one
    unit costs at most ``limit_price`` places the order, through the normal placement."""

    queryset = StandingOrder.objects.none()
    serializer_class = StandingOrderSerializer
    list_filter = StandingOrderFilter
    rows = staticmethod(selectors.standing_order_list)

    @extend_schema(parameters=[StandingOrderFilter])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=StandingOrderCreateSerializer,
        responses={
            201: StandingOrderSerializer,
            400: ErrorSerializer,
            401: ErrorSerializer,
            409: ErrorSerializer,
        },
    )
    def create(self, request: Request) -> Response:
        data = StandingOrderCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        body = data.validated_data
        standing = watches.standing_order_create(
            user=cast(User, request.user),
            goods_id=body["goods"],
            quantity=body["quantity"],
            currency_code=body.get("currency") or base_currency_code(),
            limit_price=body["limit_price"],
            expires_at=body["expires_at"],
        )
        return Response(StandingOrderSerializer(standing).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={
            200: StandingOrderSerializer,
            401: ErrorSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
        },
        description="Cancel an open standing order (409 invalid_transition otherwise).",
    )
    @action(detail=True, methods=["post"], filter_backends=(), pagination_class=None)
    def cancel(self, request: Request, pk: str) -> Response:
        standing = self.get_object()  # 404 unless the shopper's
        cancelled = watches.standing_order_cancel(
            user=cast(User, request.user), standing_order_id=standing.id
        )
        return Response(StandingOrderSerializer(cancelled).data)
