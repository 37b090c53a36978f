"""Reading /metrics in tests: one scrape, the value of one sample."""

import urllib.request

from prometheus_client.parser import text_string_to_metric_families

TOKEN = "test-metrics-token"


def sample(text: str, name: str, **labels: str) -> float:
    """The value of sample ``name`` with these labels (0 when absent: counters start there)."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return 0.0


def samples(text: str, name: str) -> list[dict[str, str]]:
    """The label sets of every sample called ``name``."""
    return [
        dict(s.labels)
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    ]


def scrape(base: str, token: str = TOKEN) -> str:
    request = urllib.request.Request(f"{base}/metrics", headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - local test server
        return str(response.read().decode())
