"""Production settings: check --deploy, the secret key, TLS switches, CORS, JSON logs with request ids."""

import http.client
import json
import os
import re
import socket
import stat
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.test import Client
from pytest_django.fixtures import Settings

from shop.core.checks import SECRET_KEY_NOT_SET
from shop.tests.live import ROOT, asgi_server, service_env

# The production variables docs/operations.md documents, as an operator behind TLS sets them.
PRODUCTION = {
    "SECRET_KEY": "kq3Nw8-4r_Vd0pX2yZ7tL5mB9cF1hJ6sA4eG8uR3wQ0oI2nT7vY5xK9zP1lM6bC",
    "REQUIRE_SECRET_KEY": "true",
    "ALLOWED_HOSTS": "shop.example.com",
    "SITE_URL": "https://shop.example.com",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "SECURE_COOKIES": "true",
    "CORS_ALLOWED_ORIGINS": "https://app.example.com",
}
# What the shop's settings read from the environment; nothing else of this machine's leaks in.
SHOP_VARIABLES = re.compile(
    r"^(DATABASE_URL|REDIS_URL|DEBUG|SECRET_KEY|REQUIRE_SECRET_KEY|ALLOWED_HOSTS|SITE_URL|SECURE_.*|CORS_.*|CSRF_.*|LOG_.*|DB_.*|VAR_DIR)$"
)


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not SHOP_VARIABLES.match(k)}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def compose_file() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


class Unset(Exception):
    """A variable that docker compose requires (``${VAR:?message}``) was not given."""


def compose_environment(operator: dict[str, str]) -> dict[str, str]:
    """The web container's environment from docker-compose.yml, ``${VAR:-default}`` and
    ``${VAR:?message}`` resolved against what the operator exported, as docker compose does."""
    raw = compose_file()["services"]["web"]["environment"]

    def resolve(value: Any) -> str:
        def one(match: re.Match[str]) -> str:
            name, kind, rest = match[1], match[2], match[3] or ""
            if kind == ":?" and not operator.get(name):
                raise Unset(rest)
            return operator.get(name) or (rest if kind == ":-" else "")

        return re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", one, str(value))

    return {key: resolve(value) for key, value in raw.items()}


def test_check_deploy_is_clean_in_stack_mode_with_the_production_variables() -> None:
    env = {"DATABASE_URL": os.environ["DATABASE_URL"], "REDIS_URL": os.environ["REDIS_URL"], **PRODUCTION}
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_is_clean_in_container_mode_with_the_production_variables() -> None:
    env = compose_environment(PRODUCTION)
    assert env["DATABASE_URL"].startswith("postgres://") and env["REDIS_URL"].startswith("redis://")
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_without_them_check_deploy_names_each_switch() -> None:
    env = compose_environment({"SECRET_KEY": PRODUCTION["SECRET_KEY"]})
    result = manage("check", "--deploy", env=env)
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in result.stderr, result.stderr


def test_without_a_key_the_stack_mode_check_names_it(tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "REDIS_URL": os.environ["REDIS_URL"],
        "VAR_DIR": str(tmp_path),
    }
    result = manage("check", "--deploy", env=env)
    assert "shop.W001" in result.stderr
    assert SECRET_KEY_NOT_SET.split(":")[0] in result.stderr


def test_the_compose_file_holds_no_secret_and_requires_a_key() -> None:
    with pytest.raises(Unset, match="set SECRET_KEY"):
        compose_environment({})  # docker compose refuses to start, saying why
    env = compose_environment({"SECRET_KEY": PRODUCTION["SECRET_KEY"]})
    assert env["REQUIRE_SECRET_KEY"] == "true"
    assert env["ADMIN_EMAIL"] == env["ADMIN_PASSWORD"] == ""  # no default account, no default password
    assert env["EMAIL_URL"].startswith("filemail:///app/var/")  # sign-in links never go to the log
    compose = compose_file()
    assert compose["services"]["web"]["ports"] == ["${WEB_BIND:-127.0.0.1}:${WEB_PORTS:-8000}:8000"]
    for service in ("web", "worker", "beat"):  # one var volume: mail files and key survive re-creation
        assert compose["services"][service]["volumes"] == ["appvar:/app/var"]
    assert "appvar" in compose["volumes"]


def test_the_image_installs_by_hash_and_runs_unprivileged_with_read_only_code() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --require-hashes -r requirements/base.lock" in dockerfile
    users = re.findall(r"^USER\s+(\S+)", dockerfile, flags=re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r"^COPY \. \.$", dockerfile, flags=re.MULTILINE)  # owned by root
    assert re.findall(r"chown(?:\s+-\w+)*\s+\S+\s+(\S+)", dockerfile) == [
        "/app/var"
    ]  # the only writable folder
    for lock in ("base.lock", "dev.lock"):
        pins = [line for line in (ROOT / "requirements" / lock).read_text().splitlines() if "==" in line]
        assert pins and all(line.rstrip().endswith("\\") for line in pins), lock  # each pin has its hashes


def test_a_required_secret_key_must_be_set(tmp_path: Path) -> None:
    result = manage("check", env={"REQUIRE_SECRET_KEY": "true", "VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def read_settings(var_dir: Path, code: str, **env: str) -> subprocess.Popen[str]:
    """A process that reads the settings (no django.setup(): the key must not need start-up)."""
    clean = {k: v for k, v in os.environ.items() if not SHOP_VARIABLES.match(k)}
    return subprocess.Popen(
        [sys.executable, "-c", f"import config.settings as s; {code}"],
        cwd=ROOT,
        env={**clean, "VAR_DIR": str(var_dir), **env},
        stdout=subprocess.PIPE,
        text=True,
    )


def output(process: subprocess.Popen[str]) -> str:
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 0
    return out.strip()


def test_without_a_secret_key_each_installation_makes_its_own(tmp_path: Path) -> None:
    # when: four processes of one installation start at once, then one more; another installation
    first = [read_settings(tmp_path / "a", "print(s.SECRET_KEY)") for _ in range(4)]
    keys = {output(process) for process in first}
    again = output(read_settings(tmp_path / "a", "print(s.SECRET_KEY)"))
    other = output(read_settings(tmp_path / "b", "print(s.SECRET_KEY)"))
    # then: one key per installation, stable across processes and restarts, readable by its owner only
    assert keys == {again} != {other}
    assert len(again) >= 50
    assert stat.S_IMODE((tmp_path / "a" / "secret_key").stat().st_mode) == 0o600
    assert [path.name for path in (tmp_path / "a").iterdir()] == ["secret_key"]  # no draft left behind


def test_reading_the_settings_changes_nothing_on_disk_with_a_key_set(tmp_path: Path) -> None:
    var = tmp_path / "var"
    code = "print(s.RUN_MODE, s.SECRET_KEY_FROM_ENV)"
    assert output(read_settings(var, code, SECRET_KEY=PRODUCTION["SECRET_KEY"])).split() == [
        "embedded",
        "True",
    ]
    # then: no folder made (start-up makes them: shop.ops), no key written
    assert not var.exists()


@pytest.mark.django_db
def test_behind_tls_plain_http_is_redirected_but_the_health_probe_is_not(
    client: Client, settings: Settings, usd: Any
) -> None:
    settings.ALLOWED_HOSTS = ["shop.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    redirected = client.get("/api/goods/", HTTP_HOST="shop.example.com")
    assert (redirected.status_code, redirected["Location"]) == (301, "https://shop.example.com/api/goods/")
    secure = client.get("/api/goods/", HTTP_HOST="shop.example.com", secure=True)
    assert secure.status_code == 200, secure.content
    assert secure["Strict-Transport-Security"].startswith("max-age=31536000")
    # a load balancer probes by address, over plain HTTP
    probe = client.get("/healthz", HTTP_HOST="10.0.0.5:8000")
    assert (probe.status_code, probe.json()["status"]) == (200, "ok")
    assert client.get("/api/goods/", HTTP_HOST="10.0.0.5:8000", secure=True).status_code == 400


@pytest.mark.django_db
def test_cors_admits_only_the_configured_origins(client: Client, settings: Settings, usd: Any) -> None:
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    allowed = client.options(
        "/api/goods/", HTTP_ORIGIN="https://app.example.com", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET"
    )
    assert allowed["Access-Control-Allow-Origin"] == "https://app.example.com"
    other = client.get("/api/goods/", HTTP_ORIGIN="https://evil.example.com")
    assert "Access-Control-Allow-Origin" not in other
    assert "Access-Control-Allow-Origin" not in client.get(
        "/admin/login/", HTTP_ORIGIN="https://app.example.com"
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_stack_mode_logs_json_lines_with_the_request_id(tmp_path: Path, usd: Any) -> None:
    log = tmp_path / "server.log"
    with asgi_server(service_env(LOG_FORMAT="", LOG_REQUESTS=""), log) as base:
        request = urllib.request.Request(f"{base}/api/goods/", headers={"X-Request-ID": "trace-42"})  # noqa: S310
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - local test server
            assert response.headers["X-Request-ID"] == "trace-42"
        with urllib.request.urlopen(f"{base}/api/goods/?limit=1", timeout=30) as response:  # noqa: S310
            generated = response.headers["X-Request-ID"]
            assert re.fullmatch(r"[0-9a-f]{32}", generated)
        # A declared 2 MiB body is refused before it is read: send only the head, then read.
        host, port = base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(
                b"POST /auth/jwt/create/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"Content-Length: 2097152\r\n\r\n{"
            )
            refused = http.client.HTTPResponse(sock)
            refused.begin()
            assert refused.status == 413
            assert json.loads(refused.read())["code"] == "too_large"
        for page in ("/activate/MTI/c2y-secret1token", "/password-reset/MTI/c2y-secret2token"):
            opened = urllib.request.Request(f"{base}{page}", headers={"X-Request-ID": page.split("/")[1]})  # noqa: S310
            with urllib.request.urlopen(opened, timeout=30) as response:  # noqa: S310
                assert response.status == 200
    text = log.read_text()
    assert "secret1token" not in text and "secret2token" not in text  # the links' tokens stay out of logs
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    access = {line.get("request_id"): line for line in lines if line["logger"] == "shop.request"}
    assert access["trace-42"]["path"] == "/api/goods/"
    assert access["trace-42"]["status"] == 200
    assert {"time", "level", "message", "duration_ms", "method"} <= set(access["trace-42"])
    assert access[generated]["status"] == 200
    assert access["activate"]["path"] == "/activate/MTI/[redacted]"
    assert access["password-reset"]["path"] == "/password-reset/MTI/[redacted]"


def _queues_served(command: list[str]) -> set[str]:
    """The queues a ``celery worker`` command line serves (-Q; without it, every queue the settings
    declare)."""
    from django.conf import settings

    if "-Q" in command:
        return set(command[command.index("-Q") + 1].split(","))
    return {queue.name for queue in settings.CELERY_TASK_QUEUES}


def _celery_worker(command: list[str]) -> bool:
    """A ``celery worker`` command line, run as it is or through ``nice``."""
    start = command.index("celery") if "celery" in command else -1
    return start >= 0 and command[start : start + 4] == ["celery", "-A", "config", "worker"]


def test_every_queue_a_task_is_routed_to_has_a_worker_in_the_procfile_and_the_compose_file() -> None:
    from django.conf import settings

    from shop.accounts.emails import ACCOUNT_EMAIL_SEND_TASK
    from shop.orders.emails import ORDER_EMAIL_SEND_TASK, ORDER_EMAILS_SEND_TASK
    from shop.pricewatch.emails import ALERTS_EMAIL_SEND_TASK
    from shop.pricewatch.services.matching import MATCH_TASK

    routes = settings.CELERY_TASK_ROUTES
    # e-mails and matching wait in queues of their own, never before a tick (the default queue);
    # an account or order e-mail never waits behind a burst's bulk e-mails
    assert {routes[name]["queue"] for name in (ACCOUNT_EMAIL_SEND_TASK, ORDER_EMAIL_SEND_TASK)} == {"mail"}
    assert {routes[name]["queue"] for name in (ORDER_EMAILS_SEND_TASK, ALERTS_EMAIL_SEND_TASK)} == {
        "mail_bulk"
    }
    assert routes[MATCH_TASK]["queue"] == "matching"
    routed = {"celery", "webhooks", *(route["queue"] for route in routes.values())}
    commands = [line.split(": ", 1)[1].split() for line in (ROOT / "Procfile").read_text().splitlines()]
    procfile = [command for command in commands if _celery_worker(command)]
    compose = [
        service["command"]
        for service in compose_file()["services"].values()
        if _celery_worker(service.get("command", []))
    ]
    assert len(procfile) == len(compose) == 5
    for workers in (procfile, compose):
        assert set().union(*(_queues_served(command) for command in workers)) == routed
