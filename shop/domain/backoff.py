"""When to try a failed webhook delivery again: exponential backoff with jitter."""

from collections.abc import Callable


def retry_delay(
    attempts: int, *, base: float, factor: float, jitter: float = 0.2, random: Callable[[], float]
) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt (1 is the first).

    ``base`` after the first failure, ``factor`` times longer after each next
    one, spread by ±``jitter`` (a fraction) so that many deliveries failing
    together do not all come back at the same moment.
    """
    if attempts < 1:
        raise ValueError("attempts counts from 1")
    spread = 1 - jitter + 2 * jitter * random()
    return float(base * factor ** (attempts - 1) * spread)
