"""Fixtures for the data tests, reusable by other suites.

``postgres_server`` starts a throw-away PostgreSQL server (``initdb`` + ``pg_ctl``) in a temporary
directory on a free loopback port, yields its URI, and stops it and deletes the directory after
the session. ``initdb`` refuses to run as root, so as root the server runs as the ``postgres``
user (through ``runuser`` or ``setpriv``) with the directory handed to that user. The fixture
skips, saying why, only when no PostgreSQL binaries are installed.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time

import pytest


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _find_pg_bin() -> str | None:
    """The folder holding initdb and pg_ctl: on PATH, or Debian's versioned folders."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return os.path.dirname(initdb)
    root = "/usr/lib/postgresql"
    if os.path.isdir(root):
        for v in sorted(os.listdir(root), reverse=True):
            b = os.path.join(root, v, "bin")
            if os.path.exists(os.path.join(b, "initdb")) and os.path.exists(os.path.join(b, "pg_ctl")):
                return b
    return None


def _as_user_prefix(user: str | None) -> list[str]:
    if user is None:
        return []
    if shutil.which("runuser"):
        return ["runuser", "-u", user, "--"]
    if shutil.which("setpriv"):
        pw = pwd.getpwnam(user)
        return ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--init-groups"]
    raise RuntimeError("running as root, but neither runuser nor setpriv is available to drop to `postgres`")


@pytest.fixture(scope="session")
def postgres_server():
    """URI of a running, empty PostgreSQL server (user ``postgres``, trust auth, 127.0.0.1)."""
    bindir = _find_pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    user = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no `postgres` user for initdb to run as")
        user = "postgres"
    prefix = _as_user_prefix(user)
    tmp = tempfile.mkdtemp(prefix="mlcore-pg-")
    data = os.path.join(tmp, "data")
    sock = os.path.join(tmp, "sock")
    os.makedirs(sock)
    if user is not None:
        pw = pwd.getpwnam(user)
        for p in (tmp, sock):
            os.chown(p, pw.pw_uid, pw.pw_gid)
    port = _free_port()
    env = dict(os.environ, LC_ALL="C", LANG="C")
    pg_ctl = os.path.join(bindir, "pg_ctl")
    subprocess.run(prefix + [os.path.join(bindir, "initdb"), "-D", data, "-U", "postgres", "--auth=trust",
                             "-E", "UTF8", "--no-sync"],
                   check=True, capture_output=True, env=env, timeout=120)
    opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    log = os.path.join(tmp, "server.log")
    started = subprocess.run(prefix + [pg_ctl, "-D", data, "-o", opts, "-l", log, "-w", "-t", "60", "start"],
                             capture_output=True, env=env, timeout=90)
    if started.returncode != 0:
        detail = open(log).read()[-2000:] if os.path.exists(log) else started.stderr.decode()[-2000:]
        shutil.rmtree(tmp, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {detail}")
    uri = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    try:
        # pg_ctl -w waits for the server; make sure the TCP port answers too.
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield uri
    finally:
        subprocess.run(prefix + [pg_ctl, "-D", data, "-m", "fast", "-w", "stop"], capture_output=True, env=env,
                       timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)
