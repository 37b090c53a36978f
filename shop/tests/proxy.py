"""nginx with deploy/nginx.conf in front of test servers: the test's own process, on a free port,
with a generated configuration (the system's nginx is never touched)."""

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shop.tests.live import ROOT, listening_process

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
UPSTREAM_LINE = "    server web:8000 max_fails=1 fail_timeout=5s;\n"
LISTEN_LINE = "    listen 80;\n"
ACCESS_LOG_LINE = "    access_log /var/log/nginx/access.log tickshop_redacted;\n"
# Which backend answered each request, for the tests to see that both did.
ACCESS_LOG_FORMAT = "'$request_method $request_uri $status $upstream_addr'"


def site_config(backends: list[str], port: int, directory: Path) -> str:
    """deploy/nginx.conf with the test's backends, port and log files: nothing else changes. Its own
    access log goes to ``redacted.log``, next to the test's ``access.log`` (which ``upstreams`` reads)."""
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    assert all(line in text for line in (UPSTREAM_LINE, LISTEN_LINE, ACCESS_LOG_LINE)), (
        "deploy/nginx.conf changed shape"
    )
    servers = "".join(f"    server {b} max_fails=1 fail_timeout=5s;\n" for b in backends)
    logs = (
        f"    access_log {directory / 'redacted.log'} tickshop_redacted;\n"
        f"    access_log {directory / 'access.log'} upstream;\n"
    )
    return (
        text.replace(UPSTREAM_LINE, servers)
        .replace(LISTEN_LINE, f"    listen 127.0.0.1:{port};\n")
        .replace(ACCESS_LOG_LINE, logs)
    )


@contextmanager
def nginx(backends: list[str], directory: Path) -> Iterator[str]:
    """Run nginx in the foreground in ``directory``; yields its base URL."""
    directory.mkdir(parents=True, exist_ok=True)
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must reach the temp directories
    temp = " ".join(
        f"{kind}_temp_path {directory / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (directory / "nginx.conf").write_text(
        f"{user}daemon off;\nworker_processes 1;\npid {directory / 'nginx.pid'};\n"
        f"error_log {directory / 'error.log'} warn;\n"
        "events { worker_connections 4096; }\n"
        "http {\n"
        f"  log_format upstream {ACCESS_LOG_FORMAT};\n"
        f"  access_log {directory / 'access.log'} upstream;\n"
        f"  {temp}\n"
        f"  include {directory / 'tickshop.conf'};\n"
        "}\n"
    )
    args = [
        NGINX,
        "-p",
        str(directory),
        "-c",
        str(directory / "nginx.conf"),
        "-e",
        str(directory / "error.log"),
    ]

    def command(port: int) -> tuple[list[str], dict[str, str]]:
        (directory / "tickshop.conf").write_text(site_config(backends, port, directory))
        return args, dict(os.environ)

    # Ready once nginx itself listens on its port (not whatever took the port before it could).
    with listening_process(command, directory / "nginx.out", timeout=30) as (port, _):
        yield f"http://127.0.0.1:{port}"


def upstreams(directory: Path, fragment: str) -> set[str]:
    """The backends that answered the logged requests whose URI contains ``fragment``."""
    found = set()
    for line in (directory / "access.log").read_text().splitlines():
        parts = line.split(" ")
        if len(parts) >= 4 and fragment in parts[1]:
            found.update(addr.strip(",") for addr in parts[3:] if addr not in ("-", ":"))
    return found
