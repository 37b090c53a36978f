"""The order's life (SPEC §13): which status may follow which."""

PLACED, PAID, COMPLETED, CANCELLED = "placed", "paid", "completed", "cancelled"

# status -> the statuses it may move to; completed and cancelled are final.
NEXT: dict[str, frozenset[str]] = {
    PLACED: frozenset({PAID, CANCELLED}),
    PAID: frozenset({COMPLETED, CANCELLED}),
    COMPLETED: frozenset(),
    CANCELLED: frozenset(),
}


def transition_allowed(current: str, to: str) -> bool:
    return to in NEXT.get(current, frozenset())
