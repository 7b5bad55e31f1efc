"""Running the inference app on a real HTTP server (uvicorn with uvloop and httptools).

``run`` blocks until SIGINT/SIGTERM, then drains in-flight requests (graceful shutdown) and
closes the prediction log. ``ServerThread`` runs the same server in a background thread, for
embedding and tests. Bind to loopback unless you mean to expose the model.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time

from ..errors import missing_dependency

__all__ = ["run", "run_granian", "ServerThread", "free_port", "build_app_from_config"]

_CONFIG_ENV = "MLCORE_SERVE_CONFIG"


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


def _is_registry(path: str) -> bool:
    return os.path.isdir(os.path.join(path, "models")) and os.path.isdir(os.path.join(path, "blobs"))


def build_app_from_config(config: dict, *, dry_run: bool = False):
    """The inference app for ``mlcore serve``: a bundle folder, or a registry alias it follows."""
    from ..deploy.bundle import Bundle
    from ..deploy.registry import Registry
    from .app import InferenceApp
    from .predictor import served_model

    source, model_name, alias = config["source"], config.get("model_name"), config.get("alias", "production")
    registry = None
    if _is_registry(source):
        registry = Registry(source)
        if model_name is None:
            names = registry.models()
            if len(names) != 1:
                raise ValueError(f"the registry holds {names}; choose one with --model")
            model_name = names[0]
        mv = registry.get(model_name, alias)
        bundle = Bundle.load(mv.path, expected_hash=mv.content_hash)
        current = {"version": mv.version}
        sm = served_model(bundle, name=model_name, version=str(mv.version))
    else:
        bundle = Bundle.load(source)
        sm = served_model(bundle, name=model_name)
    if dry_run:
        return None
    plog = None
    if config.get("log_path"):
        from .predlog import PredictionLog

        plog = PredictionLog(config["log_path"])
    app = InferenceApp([sm], batching=config.get("batching", True), max_batch_rows=config.get("max_batch_rows", 512),
                       max_delay_s=config.get("max_delay_s", 0.0), max_body_bytes=config.get("max_body_bytes", 64 << 20),
                       prediction_log=plog)
    if registry is not None:
        poll_s = float(config.get("poll_s", 10.0))

        def follow():
            while True:
                threading.Event().wait(poll_s)
                try:
                    mv2 = registry.get(model_name, alias)
                    if mv2.version != current["version"]:
                        b2 = Bundle.load(mv2.path, expected_hash=mv2.content_hash)
                        app.swap(served_model(b2, name=model_name, version=str(mv2.version)))
                        current["version"] = mv2.version
                        print(f"swapped {model_name} to version {mv2.version}", file=sys.stderr)
                except Exception as exc:  # noqa: BLE001 - keep serving the old version
                    print(f"hot swap skipped: {exc}", file=sys.stderr)

        threading.Thread(target=follow, daemon=True, name="mlcore-follow").start()
    return app


def granian_app():
    """Factory for granian's worker process: the config travels in an environment variable."""
    return build_app_from_config(json.loads(os.environ[_CONFIG_ENV]))


def run_granian(config: dict, *, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Serve with granian (one worker process) until interrupted."""
    try:
        from granian import Granian
        from granian.constants import Interfaces
    except ImportError:
        raise missing_dependency("granian", "serve") from None
    os.environ[_CONFIG_ENV] = json.dumps(config)
    Granian("mlcore.serve.server:granian_app", address=host, port=port, interface=Interfaces.ASGI,
            factory=True, workers=1, log_enabled=False).serve()


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
