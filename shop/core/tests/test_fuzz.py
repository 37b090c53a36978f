"""Schemathesis against a running server, as an anonymous caller, a shopper and staff.

Every phase of Schemathesis runs: ``examples`` (the schema's own examples),
``coverage`` (boundary and just-out-of-bounds values of every parameter and
body field), ``fuzzing`` (random valid and invalid requests) and ``stateful``
(chains of calls linked by the ids one answer gives and the next takes). The
server is the real ASGI one (``manage.py serve``) on the test database, with
the abuse limits off (they would turn most calls into 429s and hide the
endpoints behind them). Checks: no 5xx, and every answer conforms to the
schema (documented status, content type, headers and body).

``make test`` runs a quick pass (FUZZ_MAX_EXAMPLES=3 per operation, a fixed
seed so CI does not flake); ``make fuzz`` a long one with a new seed. The seed
is printed: ``FUZZ_SEED=<seed> make fuzz`` replays a run.
"""

import os
import random
import subprocess
from pathlib import Path
from typing import Any

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from shop.tests.factories import CurrencyFactory, GoodsFactory, SaleFactory, UserFactory
from shop.tests.live import PYTHON, asgi_server, service_env

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "3"))
SEED = int(
    os.environ.get("FUZZ_SEED") or (random.randrange(2**31) if os.environ.get("FUZZ_RANDOM") else 20261127)
)
PHASES = "examples,coverage,fuzzing,stateful"
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    )
)
NO_LIMITS = {
    "THROTTLE_LOGIN_PER_IP": "", "THROTTLE_LOGIN_PER_EMAIL": "", "THROTTLE_LOGIN_PER_IP_AND_EMAIL": "",
    "THROTTLE_REGISTER_PER_IP": "", "THROTTLE_REGISTER_PER_EMAIL": "",
    "THROTTLE_PASSWORD_RESET_PER_IP": "", "THROTTLE_PASSWORD_RESET_PER_EMAIL": "",
    "THROTTLE_ACTIVATION_RESEND_PER_IP": "", "THROTTLE_ACTIVATION_RESEND_PER_EMAIL": "",
    "THROTTLE_ORDERS_PER_USER": "", "GENERATE_PRICES_INTERVAL_SECONDS": "0",
}  # fmt: skip


@pytest.fixture
def shop(usd: Any, tmp_path: Path) -> Any:
    CurrencyFactory(code="EUR", rate="0.92")
    CurrencyFactory(code="JPY", decimals=0, rate="157.5")
    goods = [GoodsFactory(price=f"{10 + i}.00") for i in range(3)]
    SaleFactory(goods=goods[:2])
    env = service_env(
        PRICE_TICKER="off", EMAIL_URL=f"filemail:///{tmp_path / 'mail'}", EMAIL_DELIVERY="thread", **NO_LIMITS
    )
    with asgi_server(env, tmp_path / "server.log") as base:
        yield base


ROLES = ("anonymous", "shopper", "staff")


def bearer(role: str) -> list[str]:
    if role == "anonymous":
        return []
    user = UserFactory(email=f"fuzz-{role}@example.com", is_staff=role == "staff")
    return ["-H", f"Authorization: Bearer {RefreshToken.for_user(user).access_token}"]


def test_api_conforms_to_its_schema_in_every_phase_and_role(shop: str, tmp_path: Path) -> None:
    schemathesis = str(Path(PYTHON).with_name("st"))
    print(f"fuzz: seed {SEED}, {MAX_EXAMPLES} examples per operation (replay: FUZZ_SEED={SEED})")
    runs = {}
    for role in ROLES:  # the three at once, against one server
        args = [
            schemathesis, "run", f"{shop}/api/schema/", *bearer(role),
            "--phases", PHASES, "--checks", CHECKS,
            "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED), "--workers", "1",
            "--no-shrink", "--request-timeout", "30", "--no-color", "--suppress-health-check", "all",
        ]  # fmt: skip
        out = (tmp_path / f"schemathesis-{role}.txt").open("w")
        runs[role] = (subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, text=True), out)
    failed = []
    for role, (run, out) in runs.items():
        code = run.wait(timeout=1800)
        out.close()
        report = (tmp_path / f"schemathesis-{role}.txt").read_text()
        summary = [line for line in report.splitlines() if line.strip()][-12:]
        print(f"--- {role}\n" + "\n".join(summary))  # docs/security.md quotes these figures
        if code != 0 or not all(phase in report for phase in ("Examples", "Coverage", "Fuzzing", "Stateful")):
            failed.append(f"--- {role} (exit {code})\n{report[-20000:]}")
    assert not failed, "\n".join(failed)
