"""Recording a payment (SPEC §13): staff record how an order was paid, through a provider.

A provider turns what staff enter into what the order keeps (method and reference) or refuses
it. The shop ships the ways a shop takes money without a card gateway: a bank transfer (its
reference required) and cash on delivery. A card gateway is one more ``PaymentProvider`` added
to ``PROVIDERS``: it would confirm the charge with its service in ``record`` before the order is
marked paid.
"""

from dataclasses import dataclass
from typing import Protocol

from shop.core.errors import ValidationError
from shop.orders.errors import OrderErrorCode
from shop.orders.models import Order

MAX_REFERENCE = 200  # Order.payment_reference


@dataclass(frozen=True)
class PaymentRecord:
    method: str
    reference: str


class PaymentProvider(Protocol):
    name: str
    description: str

    def record(self, *, order: Order, reference: str) -> PaymentRecord:
        """What the order keeps of this payment; a ValidationError when it cannot be recorded."""


class BankTransfer:
    name = "bank_transfer"
    description = "A bank transfer; the reference is the transfer's (required)."

    def record(self, *, order: Order, reference: str) -> PaymentRecord:
        if not reference.strip():
            raise ValidationError(
                "A bank transfer is recorded with its reference.", code=OrderErrorCode.PAYMENT_REFERENCE
            )
        return PaymentRecord(self.name, reference.strip())


class CashOnDelivery:
    name = "cash_on_delivery"
    description = "Cash taken at delivery; the reference is optional (a receipt number)."

    def record(self, *, order: Order, reference: str) -> PaymentRecord:
        return PaymentRecord(self.name, reference.strip())


PROVIDERS: dict[str, PaymentProvider] = {p.name: p for p in (BankTransfer(), CashOnDelivery())}


def payment_provider(method: str) -> PaymentProvider:
    provider = PROVIDERS.get(method)
    if provider is None:
        raise ValidationError(
            f"Unknown payment method; one of: {', '.join(PROVIDERS)}.",
            code=OrderErrorCode.PAYMENT_METHOD,
        )
    return provider
