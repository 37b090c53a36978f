"""A private PostgreSQL cluster for fault tests (never the machine's shared server).

``initdb`` and ``pg_ctl`` refuse to run as root, so as root the cluster belongs
to the ``postgres`` system user, in a directory of its own under /tmp (pytest's
tmp_path is private to root).
"""

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from shop.tests.live import free_port


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb is None:
        pytest.skip("PostgreSQL's initdb is not installed")
    return Path(initdb).parent


WAIT = ("-w", "-t", "60")  # pg_ctl waits for the server to be up (or down), 60 s at most


class PostgresProcess:
    """``initdb`` (trust auth) + ``pg_ctl`` on a free port; stop and start at will."""

    def __init__(self) -> None:
        self.bin = _bin_dir()
        self.port = free_port()
        self.started = False
        self.user: str | None = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                pytest.skip("running as root and there is no postgres user to own a cluster")
            self.user = "postgres"
        self.root = Path(tempfile.mkdtemp(prefix="tickshop-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        if self.user:
            shutil.chown(self.root, user=self.user)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            check=True,
            capture_output=True,
            timeout=120,
            user=self.user,
            cwd=self.root,
        )

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")

    def start(self) -> None:
        for _ in range(5):
            options = (
                f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            seen = len(self.server_log())
            try:
                self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, *WAIT, "start")
            except subprocess.CalledProcessError:
                # free_port's port taken before the first start (by another test run's server, or
                # an outgoing connection): another one. Once started, it keeps its port.
                if self.started or "could not bind" not in self.server_log()[seen:]:
                    raise
                self.port = free_port()
                continue
            self.started = True
            return
        raise RuntimeError(f"PostgreSQL could not listen on a port of its own; see {self.log}")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, *WAIT, "stop")

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def server_log(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""
