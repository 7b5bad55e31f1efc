"""Running the inference app on a real HTTP server (uvicorn with uvloop and httptools).

``run`` blocks until SIGINT/SIGTERM, then drains in-flight requests (graceful shutdown) and
closes the prediction log. ``ServerThread`` runs the same server in a background thread, for
embedding and tests. Bind to loopback unless you mean to expose the model.
"""

from __future__ import annotations

import socket
import threading
import time

from ..errors import missing_dependency

__all__ = ["run", "ServerThread", "free_port"]


def _uvicorn():
    try:
        import uvicorn
    except ImportError:
        raise missing_dependency("uvicorn", "serve") from None
    return uvicorn


def _config(app, host: str, port: int, graceful_s: float):
    uvicorn = _uvicorn()
    try:
        import uvloop  # noqa: F401

        loop = "uvloop"
    except ImportError:
        loop = "asyncio"
    try:
        import httptools  # noqa: F401

        http = "httptools"
    except ImportError:
        http = "h11"
    return uvicorn.Config(app, host=host, port=port, loop=loop, http=http, lifespan="on",
                          log_level="warning", access_log=False, timeout_graceful_shutdown=graceful_s)


def run(app, *, host: str = "127.0.0.1", port: int = 8080, graceful_s: float = 30.0) -> None:
    """Serve ``app`` until interrupted."""
    _uvicorn().Server(_config(app, host, port, graceful_s)).run()


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class ServerThread:
    """A uvicorn server in a background thread; ``start()`` returns once it accepts connections."""

    def __init__(self, app, *, host: str = "127.0.0.1", port: int | None = None, graceful_s: float = 10.0):
        self.app = app
        self.host = host
        self.port = port or free_port(host)
        self.server = _uvicorn().Server(_config(app, self.host, self.port, graceful_s))
        self.thread = threading.Thread(target=self.server.run, name="mlcore-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 60.0) -> "ServerThread":
        self.thread.start()
        end = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the server thread exited during start-up (see the log above)")
            if time.monotonic() > end:
                raise TimeoutError(f"server did not start within {timeout} s")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
