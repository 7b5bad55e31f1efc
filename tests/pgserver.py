"""A real PostgreSQL server for tests: initdb + pg_ctl in a temporary folder, on a free loopback port.

PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user (runuser).
Tests that need it skip, saying why, only when no PostgreSQL binaries are installed.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile

import pytest


def _bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    root = "/usr/lib/postgresql"
    if os.path.isdir(root):
        for v in sorted(os.listdir(root), reverse=True):
            p = os.path.join(root, v, "bin", name)
            if os.path.exists(p):
                return p
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self):
        initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
        if not (initdb and pg_ctl):
            pytest.skip("PostgreSQL binaries (initdb, pg_ctl) are not installed")
        self.initdb, self.pg_ctl = initdb, pg_ctl
        self.dir = tempfile.mkdtemp(prefix="mlcore-pg-")
        self.port = _free_port()
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam("postgres")
            except KeyError:
                pytest.skip("running as root and there is no `postgres` user for the server to run as")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            os.chmod(self.dir, 0o700)
            self.prefix = ["runuser", "-u", "postgres", "--"]

    def _run(self, args):
        return subprocess.run(self.prefix + args, capture_output=True, text=True, timeout=120)

    def start(self) -> "PostgresServer":
        data = os.path.join(self.dir, "data")
        r = self._run([self.initdb, "-D", data, "-U", "mlcore", "--auth=trust", "-E", "UTF8", "--no-sync"])
        if r.returncode:
            raise RuntimeError(f"initdb failed: {r.stderr}")
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        r = self._run([self.pg_ctl, "-D", data, "-o", opts, "-l", os.path.join(self.dir, "log"), "-w", "-t", "60", "start"])
        if r.returncode:
            log = open(os.path.join(self.dir, "log")).read() if os.path.exists(os.path.join(self.dir, "log")) else ""
            raise RuntimeError(f"pg_ctl start failed: {r.stderr}\n{log[-2000:]}")
        return self

    @property
    def uri(self) -> str:
        return f"postgresql://mlcore@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        self._run([self.pg_ctl, "-D", os.path.join(self.dir, "data"), "-m", "fast", "-w", "stop"])
        shutil.rmtree(self.dir, ignore_errors=True)
