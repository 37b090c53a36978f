"""Integrators (SPEC §12): clients generated from the live schema work.

A Python client is generated with openapi-python-client from ``/api/schema/``
of a real server, every module of it is imported, and a shopper's and a staff
member's whole scenario runs through that client alone. TypeScript types are
generated with openapi-typescript and a usage file is type-checked with tsc.
"""

import importlib
import os
import pkgutil
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from shop.domain.money import quantize
from shop.tests.factories import CurrencyFactory, GoodsFactory, UserFactory
from shop.tests.live import PYTHON, ROOT, asgi_server, service_env, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BIN = Path(PYTHON).parent
TS = ROOT / "clients" / "typescript"
PASSWORD = "correct horse battery staple"  # shop.tests.factories.UserFactory
NEW_PASSWORD = "an integrator's 7 long passphrase"


@pytest.fixture
def server(usd: Any, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A live server with demo-like data; mail goes to files (EMAIL_URL=filemail://)."""
    eur = CurrencyFactory(code="EUR", name="Euro", symbol="€", decimals=2)
    from shop.currency.services import rate_create

    rate_create(currency_code=eur.code, rate=Decimal("0.92"), source="manual")
    GoodsFactory(name="Kettle", price="100.00")
    GoodsFactory(name="Teapot", price="40.00")
    mail = tmp_path / "mail"
    mail.mkdir()
    # Account e-mails leave after the answer, from a thread of the server (no worker runs here).
    env = service_env(PRICE_TICKER="off", EMAIL_URL=f"filemail://{mail}", EMAIL_DELIVERY="thread")
    with asgi_server(env, tmp_path / "web.log") as base:
        yield base, mail


def generate_python(base: str, out: Path) -> str:
    args = ["generate", "--url", f"{base}/api/schema/", "--meta", "none", "--output-path", str(out)]
    result = subprocess.run(
        [str(BIN / "openapi-python-client"), *args],
        env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"},  # it formats with our ruff
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


def import_all(package: str) -> list[str]:
    root = importlib.import_module(package)
    names = [package]
    for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
        importlib.import_module(info.name)
        names.append(info.name)
    return names


@pytest.fixture
def client_package(server: tuple[str, Path], tmp_path: Path) -> Iterator[tuple[str, Any]]:
    base, _ = server
    name = "tickshop_client"
    output = generate_python(base, tmp_path / "gen" / name)
    # Every operation and model generated, none skipped for a shape the generator cannot read.
    assert "Warning" not in output and "Unable" not in output, output
    sys.path.insert(0, str(tmp_path / "gen"))
    try:
        yield name, import_all(name)
    finally:
        sys.path.remove(str(tmp_path / "gen"))
        for module in [m for m in sys.modules if m == name or m.startswith(f"{name}.")]:
            del sys.modules[module]


def test_generated_python_client_runs_the_whole_scenario(
    server: tuple[str, Path], client_package: tuple[str, list[str]]
) -> None:
    base, mail = server
    name, modules = client_package
    assert f"{name}.api.orders.orders_create" in modules
    assert f"{name}.api.auth.auth_jwt_create" in modules  # readable ids, not auth_jwt_create_create
    assert not [m for m in modules if re.search(r"_(create|update)_(create|update)$", m)]
    c = importlib.import_module(f"{name}.client")
    models = importlib.import_module(f"{name}.models")
    op = lambda path: importlib.import_module(f"{name}.api.{path}")  # noqa: E731
    anon = c.Client(base_url=base, raise_on_unexpected_status=True)

    # a shopper registers ...
    email = "integrator@example.com"
    created = op("auth.auth_users_create").sync_detailed(
        client=anon,
        body=models.UserCreateRequest(email=email, password=NEW_PASSWORD, re_password=NEW_PASSWORD),
    )
    assert created.status_code == 201, created.content
    # ... activates the account from the link in the e-mail ...
    wait_until(lambda: any("/activate/" in p.read_text() for p in mail.iterdir()))  # written, not just opened
    [message] = [p.read_text() for p in mail.iterdir()]
    uid, token = re.search(r"/activate/([\w-]+)/([\w-]+)", message).groups()  # type: ignore[union-attr]
    activated = op("auth.auth_users_activation").sync_detailed(
        client=anon, body=models.ActivationRequest(uid=uid, token=token)
    )
    assert activated.status_code == 204, activated.content
    # ... logs in ...
    tokens = op("auth.auth_jwt_create").sync(
        client=anon, body=models.TokenObtainPairRequest(email=email, password=NEW_PASSWORD)
    )
    assert isinstance(tokens, models.TokenObtainPair)
    me = c.AuthenticatedClient(base_url=base, token=tokens.access, raise_on_unexpected_status=True)
    # ... reads the goods in EUR ...
    page = op("goods.goods_list").sync(client=anon, currency="EUR", ordering="name")
    assert isinstance(page, models.PaginatedGoodsList)
    kettle = next(g for g in page.results if g.name == "Kettle")
    assert kettle.currency == "EUR" and kettle.price == "92.00"
    # ... fills the cart and reads the quote ...
    op("cart.cart_items_create").sync(
        client=me, body=models.CartItemInputRequest(goods=kettle.id, quantity=1)
    )
    quote = op("cart.cart_retrieve").sync(client=me, currency="EUR")
    assert isinstance(quote, models.CartQuote)
    assert quote.order_sum == "128.89"  # SPEC §4's worked example
    # ... is protected by max_order_sum ...
    refused = op("cart.cart_checkout").sync_detailed(
        client=me, body=models.CheckoutRequest(currency="EUR", max_order_sum="100.00")
    )
    assert refused.status_code == 409
    assert isinstance(refused.parsed, models.Conflict409) and refused.parsed.order_sum == "128.89"
    # ... checks out ...
    order = op("cart.cart_checkout").sync(
        client=me, body=models.CheckoutRequest(currency="EUR", max_order_sum=quote.order_sum)
    )
    assert isinstance(order, models.Order)
    assert order.order_sum == "128.89" and order.currency == "EUR"
    assert [(line.goods, line.quantity, line.unit_price) for line in order.items] == [
        (kettle.id, 1, "100.00")
    ]
    # ... sees its own orders, and orders directly with nested items (JSON, not a form)
    direct = op("orders.orders_create").sync(
        client=me,
        body=models.OrderCreateRequest(
            currency="EUR", items=[models.OrderItemInputRequest(goods=kettle.id, quantity=2)]
        ),
    )
    assert isinstance(direct, models.Order) and direct.items[0].quantity == 2
    mine = op("orders.orders_list").sync(client=me)
    assert isinstance(mine, models.PaginatedOrderList)
    assert sorted(o.id for o in mine.results) == sorted([order.id, direct.id])
    # ... and refreshes its token
    fresh = op("auth.auth_jwt_refresh").sync(
        client=anon, body=models.TokenRefreshRequest(refresh=tokens.refresh)
    )
    assert isinstance(fresh, models.TokenRefresh) and fresh.access != tokens.access
    again = c.AuthenticatedClient(base_url=base, token=fresh.access, raise_on_unexpected_status=True)
    assert op("orders.orders_retrieve").sync(client=again, id=order.id).id == order.id

    # Staff: create goods, a sale, generate prices, post a rate.
    staff_user = UserFactory(is_staff=True)
    staff_tokens = op("auth.auth_jwt_create").sync(
        client=anon, body=models.TokenObtainPairRequest(email=staff_user.email, password=PASSWORD)
    )
    staff = c.AuthenticatedClient(base_url=base, token=staff_tokens.access, raise_on_unexpected_status=True)
    new = op("goods.goods_create").sync(
        client=staff, body=models.GoodsRequest(name="Samovar", description="Brass")
    )
    assert isinstance(new, models.GoodsDetail) and new.name == "Samovar"
    # ... or a list of them at once (a catalog import), answered in the order sent
    imported = op("goods.goods_create").sync(
        client=staff, body=[models.GoodsRequest(name=f"Cup {i}") for i in range(3)]
    )
    assert isinstance(imported, list) and [g.name for g in imported] == ["Cup 0", "Cup 1", "Cup 2"]
    sale = op("sales.sales_create").sync(
        client=staff,
        body=models.SaleRequest(name="Tea week", min_price="10.00", max_price="20.00", goods=[new.id]),
    )
    assert isinstance(sale, models.Sale) and sale.is_running
    prices = op("sales.sales_generate_prices").sync(client=staff, id=sale.id)
    assert isinstance(prices, list) and [p.goods for p in prices] == [new.id]
    assert Decimal("10.00") <= Decimal(prices[0].amount) <= Decimal("20.00")
    rate = op("currency.currency_rates_create").sync(
        client=staff, code="EUR", body=models.ExchangeRateCreateRequest(rate="0.95")
    )
    assert isinstance(rate, models.ExchangeRate) and Decimal(rate.rate) == Decimal("0.95")
    euro = op("goods.goods_retrieve").sync(client=anon, id=new.id, currency="EUR")
    assert euro.price == str(quantize(Decimal(prices[0].amount) * Decimal("0.95"), 2))
    # A shopper is refused staff operations, with the error parsed
    denied = op("sales.sales_create").sync_detailed(
        client=me, body=models.SaleRequest(name="x", min_price="1.00", max_price="2.00")
    )
    assert denied.status_code == 403 and isinstance(denied.parsed, models.Error)


@pytest.mark.skipif(not shutil.which("node"), reason="needs Node.js (installed with the machine image)")
def test_generated_typescript_types_check(server: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = server
    tools = TS / "node_modules" / ".bin"
    assert (tools / "tsc").exists(), "run `make test` (its npm step installs clients/typescript)"
    work = tmp_path / "ts"
    work.mkdir()
    shutil.copy(TS / "usage.ts", work)
    shutil.copy(TS / "tsconfig.json", work)
    generated = subprocess.run(
        [str(tools / "openapi-typescript"), f"{base}/api/schema/", "-o", str(work / "api.d.ts")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    checked = subprocess.run(
        [str(tools / "tsc"), "--noEmit", "-p", str(work / "tsconfig.json")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # and it is a real check: a wrong type in the usage file fails it
    (work / "usage.ts").write_text(
        (work / "usage.ts").read_text().replace("quantity: 2 }", 'quantity: "2" }')
    )
    broken = subprocess.run(
        [str(tools / "tsc"), "--noEmit", "-p", str(work / "tsconfig.json")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert broken.returncode != 0 and "not assignable" in broken.stdout
