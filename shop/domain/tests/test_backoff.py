import pytest

from shop.domain.backoff import retry_delay


def test_waits_grow_by_the_factor() -> None:
    middle = lambda: 0.5  # noqa: E731 - no jitter at the middle of the spread
    waits = [retry_delay(n, base=5, factor=3, random=middle) for n in range(1, 6)]
    assert waits == [5, 15, 45, 135, 405]


def test_jitter_spreads_by_the_fraction() -> None:
    assert retry_delay(1, base=5, factor=3, random=lambda: 0.0) == pytest.approx(4.0)
    assert retry_delay(1, base=5, factor=3, random=lambda: 1.0) == pytest.approx(6.0)
    assert retry_delay(2, base=5, factor=3, jitter=0, random=lambda: 0.9) == 15


def test_a_day_is_about_ten_attempts() -> None:
    waits = [retry_delay(n, base=5, factor=3, random=lambda: 0.5) for n in range(1, 12)]
    total, attempts = 0.0, 0
    for wait in waits:
        if total + wait > 24 * 3600:
            break
        total, attempts = total + wait, attempts + 1
    assert attempts == 9  # 5 s … 9 h 7 min: the next wait would pass 24 h


def test_attempts_count_from_one() -> None:
    with pytest.raises(ValueError, match="from 1"):
        retry_delay(0, base=5, factor=3, random=lambda: 0.5)
