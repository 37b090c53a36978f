import ast
from decimal import Decimal
from pathlib import Path

import pytest

from shop.domain.money import Quote, convert, format_amount, quantize


@pytest.mark.parametrize(
    ("amount", "decimals", "expected"),
    [
        ("128.892", 2, "128.89"),
        ("11.825", 2, "11.83"),  # half up, where banker's rounding gives 11.82
        ("0.125", 2, "0.13"),
        ("2.5", 0, "3"),
        ("1229.5", 0, "1230"),
        ("1.23456", 4, "1.2346"),
        ("1.0005", 3, "1.001"),
        ("-1.005", 2, "-1.01"),
    ],
)
def test_quantize_rounds_half_up(amount: str, decimals: int, expected: str) -> None:
    assert str(quantize(Decimal(amount), decimals)) == expected


def test_quantize_refuses_floats() -> None:
    with pytest.raises(TypeError):
        quantize(1.5, 2)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("amount", "rate", "decimals", "expected"),
    [
        ("100.00", "0.92", 2, "92.00"),
        ("12.30", "157.67483296", 0, "1939"),
        ("10.75", "1.1", 2, "11.83"),
        ("10.00", "0.3456", 3, "3.456"),
    ],
)
def test_convert(amount: str, rate: str, decimals: int, expected: str) -> None:
    assert (
        format_amount(convert(Decimal(amount), rate=Decimal(rate), decimals=decimals), decimals) == expected
    )


@pytest.mark.parametrize(
    ("amount", "decimals", "expected"),
    [
        pytest.param("12.3", 2, "12.30", id="pads-the-decimals"),
        pytest.param("1230", 0, "1230", id="no-decimals"),
        pytest.param("0.003", 2, "0.003", id="never-rounds"),
        pytest.param("100", 2, "100.00", id="pads-a-whole-number"),
        pytest.param("5E+1", 2, "50.00", id="exponent-written-out"),
    ],
)
def test_format_amount_pads_and_never_rounds(amount: str, decimals: int, expected: str) -> None:
    assert format_amount(Decimal(amount), decimals) == expected


def test_quote_shows_converted_rounded_amounts() -> None:
    jpy = Quote(currency="JPY", rate=Decimal("157.67483296"), decimals=0, is_base=False)
    assert jpy.show(Decimal("12.30")) == "1939"
    assert jpy.show(None) is None


def test_domain_imports_no_django() -> None:
    domain = Path(__file__).resolve().parents[1]
    for path in domain.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(("django", "rest_framework")), f"{path} imports {name}"
