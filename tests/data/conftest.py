"""Fixtures for the data tests.

``postgres_server`` is a throw-away PostgreSQL server (``initdb`` + ``pg_ctl`` in a temporary folder,
on a free 127.0.0.1 port, run as the ``postgres`` user when the tests run as root), shared by the
session; see ``tests/pgserver.py``. It skips, saying why, only where no PostgreSQL binaries exist.
"""

from __future__ import annotations

import pytest

from pgserver import PostgresServer


@pytest.fixture(scope="session")
def postgres_server():
    """URI of a running, empty PostgreSQL server (trust auth, 127.0.0.1)."""
    server = PostgresServer().start()
    yield server.uri
    server.stop()
