"""nginx with deploy/nginx.conf in front of test servers: the test's own process, on a free port,
with a generated configuration (the system's nginx is never touched)."""

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shop.tests.live import ROOT, free_port, process, wait_until

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
UPSTREAM_LINE = "    server web:8000 max_fails=1 fail_timeout=5s;\n"
LISTEN_LINE = "    listen 80;\n"
# Which backend answered each request, for the tests to see that both did.
ACCESS_LOG_FORMAT = "'$request_method $request_uri $status $upstream_addr'"


def site_config(backends: list[str], port: int) -> str:
    """deploy/nginx.conf with the test's backends and port: nothing else changes."""
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    assert UPSTREAM_LINE in text and LISTEN_LINE in text, "deploy/nginx.conf changed shape"
    servers = "".join(f"    server {b} max_fails=1 fail_timeout=5s;\n" for b in backends)
    return text.replace(UPSTREAM_LINE, servers).replace(LISTEN_LINE, f"    listen 127.0.0.1:{port};\n")


@contextmanager
def nginx(backends: list[str], directory: Path) -> Iterator[str]:
    """Run nginx in the foreground in ``directory``; yields its base URL."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    (directory / "tickshop.conf").write_text(site_config(backends, port))
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
    with process(args, dict(os.environ), directory / "nginx.out") as proc:
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: proc.poll() is None and _listening(port), timeout=15)
        yield base


def _listening(port: int) -> bool:
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=1):
        return True


def upstreams(directory: Path, fragment: str) -> set[str]:
    """The backends that answered the logged requests whose URI contains ``fragment``."""
    found = set()
    for line in (directory / "access.log").read_text().splitlines():
        parts = line.split(" ")
        if len(parts) >= 4 and fragment in parts[1]:
            found.update(addr.strip(",") for addr in parts[3:] if addr not in ("-", ":"))
    return found
