"""The signature scheme, and the verification snippet of docs/api.md ("Webhooks") run against it."""

import re
import time
from pathlib import Path
from typing import Any

from shop.webhooks.signing import secret_new, signature_header, signature_verify

API_DOC = Path(__file__).resolve().parents[3] / "docs" / "api.md"
BODY = b'{"id":"0b0e","type":"order.created","created_at":"2026-01-01T00:00:00+00:00","data":{}}'


def documented_verify() -> Any:
    text = API_DOC.read_text()
    code = re.search(r"```python\n(import hashlib, hmac, time\n.*?)```", text, flags=re.DOTALL)
    assert code, "docs/api.md: the webhook verification snippet is missing"
    scope: dict[str, Any] = {}
    exec(code.group(1), scope)  # noqa: S102 - our own docs' snippet
    return scope["verify"]


def test_header_is_stripe_shaped() -> None:
    header = signature_header(secret="whsec_x", body=BODY, timestamp=1700000000)
    assert re.fullmatch(r"t=1700000000,v1=[0-9a-f]{64}", header)


def test_verifies_only_the_same_secret_body_and_recent_time() -> None:
    secret = secret_new()
    now = int(time.time())
    header = signature_header(secret=secret, body=BODY, timestamp=now)
    for verify in (signature_verify, documented_verify()):
        assert verify(secret=secret, body=BODY, header=header)
        assert not verify(secret=secret_new(), body=BODY, header=header)
        assert not verify(secret=secret, body=BODY + b" ", header=header)
        stale = signature_header(secret=secret, body=BODY, timestamp=now - 3600)
        assert not verify(secret=secret, body=BODY, header=stale)
        assert not verify(secret=secret, body=BODY, header="garbage")
        assert not verify(secret=secret, body=BODY, header=f"t=x,v1={'0' * 64}")


def test_secrets_are_long_and_different() -> None:
    secrets = {secret_new() for _ in range(100)}
    assert len(secrets) == 100
    assert all(s.startswith("whsec_") and len(s) >= 40 for s in secrets)
