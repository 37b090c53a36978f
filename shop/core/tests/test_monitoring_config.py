"""The compose profiles, Prometheus' and Grafana's files agree with the shop's metrics."""

import json
import re
from pathlib import Path

import pytest
import yaml
from django.test import Client
from django.test.utils import override_settings

from shop.tests.metrics import TOKEN

ROOT = Path(__file__).resolve().parents[3]


def compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_scale_profile_puts_the_proxy_in_front_of_web_replicas() -> None:
    services = compose()["services"]
    assert services["proxy"]["profiles"] == ["scale"]
    assert "./deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro" in services["proxy"]["volumes"]
    assert services["web"]["deploy"]["replicas"] == "${WEB_REPLICAS:-1}"
    # the proxy's fixed address is trusted for X-Forwarded-For / -Proto
    address = services["proxy"]["networks"]["default"]["ipv4_address"]
    assert address in services["web"]["environment"]["FORWARDED_ALLOW_IPS"]
    assert "profiles" not in services["web"]  # the default `up` still runs the shop alone


def test_every_shop_container_shares_the_metrics_directory() -> None:
    services = compose()["services"]
    for name in ("web", "worker", "beat"):
        assert "appvar:/app/var" in services[name]["volumes"], name  # metrics/ is inside it
        assert services[name]["environment"]["PROMETHEUS_MULTIPROC_DIR"] == "/app/var/metrics"


def test_monitoring_profile_scrapes_with_the_token_and_provisions_the_dashboard() -> None:
    services = compose()["services"]
    assert services["prometheus"]["profiles"] == services["grafana"]["profiles"] == ["monitoring"]
    prometheus = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())
    job = prometheus["scrape_configs"][0]
    assert job["metrics_path"] == "/metrics"
    assert job["authorization"]["credentials_file"] == "/etc/prometheus/metrics_token"
    assert compose()["configs"]["metrics_token"]["content"] == "${METRICS_TOKEN:-}"
    assert (
        "./deploy/grafana/tickshop.json:/var/lib/grafana/dashboards/tickshop.json:ro"
        in (services["grafana"]["volumes"])
    )


@pytest.mark.django_db
@override_settings(METRICS_TOKEN=TOKEN)
def test_the_dashboard_asks_only_for_metrics_the_shop_exposes(client: Client) -> None:
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "tickshop.json").read_text())
    titles = [panel["title"] for panel in dashboard["panels"]]
    for wanted in ("Tick duration", "Skipped tick slots", "Feed clients", "Feed lag (commit to socket)"):
        assert wanted in titles
    assert {"Requests per second by route", "p99 by route", "Orders by outcome"} <= set(titles)
    exposed = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
    families = set(re.findall(r"^# TYPE (\w+) ", exposed, flags=re.MULTILINE))
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            for name in re.findall(r"tickshop_\w+", target["expr"]):
                family = re.sub(r"_(bucket|count|sum)$", "", name)
                assert family in families or name in families, (panel["title"], name)
