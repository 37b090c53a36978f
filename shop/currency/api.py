from decimal import Decimal
from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from shop.core.fields import RateField
from shop.currency import selectors, services
from shop.currency.models import CODE_VALIDATOR, Currency, ExchangeRate


class CurrencySerializer(serializers.ModelSerializer[Currency]):
    code = serializers.CharField(validators=[CODE_VALIDATOR], max_length=3)
    decimals = serializers.IntegerField(min_value=0, max_value=4, default=2)
    rate = RateField(allow_null=True)
    rate_updated_at = serializers.DateTimeField(read_only=True, allow_null=True)
    is_base = serializers.SerializerMethodField()

    class Meta:
        model = Currency
        fields = ("code", "name", "symbol", "decimals", "is_active", "rate", "rate_updated_at", "is_base")

    def get_is_base(self, obj: Currency) -> bool:
        return obj.code == settings.BASE_CURRENCY

    def validate_code(self, value: str) -> str:
        if self.instance is not None and value != self.instance.code:
            raise serializers.ValidationError("The code of a currency cannot change.")
        if self.instance is None and Currency.objects.filter(code=value).exists():
            raise serializers.ValidationError("A currency with this code exists already.")
        return value


class ExchangeRateSerializer(serializers.ModelSerializer[ExchangeRate]):
    rate = RateField()

    class Meta:
        model = ExchangeRate
        fields = ("id", "currency", "rate", "valid_from", "source")
        read_only_fields = fields


class ExchangeRateCreateSerializer(serializers.Serializer[Any]):
    rate = serializers.DecimalField(max_digits=24, decimal_places=8, min_value=Decimal("0.00000001"))


class CurrencyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet[Currency],
):
    """Currencies and their exchange rates (units per 1 unit of the base currency)."""

    serializer_class = CurrencySerializer
    # POST .../rates/ adds an exchange rate, not a currency (shop.core.permissions)
    write_permissions = {"rates": ("currency.add_exchangerate",)}
    lookup_field = "code"
    lookup_value_regex = "[A-Z]{3}"
    ordering_fields = ("code", "name")
    search_fields = ("code", "name")

    def get_queryset(self) -> Any:
        return selectors.currency_list()

    def perform_create(self, serializer: CurrencySerializer) -> None:
        currency = services.currency_create(**serializer.validated_data)
        serializer.instance = selectors.currency_get(code=currency.code)

    def perform_update(self, serializer: CurrencySerializer) -> None:
        currency = services.currency_update(currency=serializer.instance, data=serializer.validated_data)
        serializer.instance = selectors.currency_get(code=currency.code)

    @extend_schema(
        request=ExchangeRateCreateSerializer,
        responses={200: ExchangeRateSerializer(many=True), 201: ExchangeRateSerializer},
        description="GET: the rate history, newest first. POST (staff): a manual rate valid from now.",
    )
    @action(detail=True, methods=["get", "post"], serializer_class=ExchangeRateSerializer)
    def rates(self, request: Request, code: str) -> Response:
        currency = self.get_object()
        if request.method == "POST":
            data = ExchangeRateCreateSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            rate = services.rate_create(
                currency_code=currency.code,
                rate=data.validated_data["rate"],
                source=ExchangeRate.Source.MANUAL,
            )
            return Response(ExchangeRateSerializer(rate).data, status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(selectors.rate_history(currency_code=currency.code))
        return self.get_paginated_response(ExchangeRateSerializer(page, many=True).data)
