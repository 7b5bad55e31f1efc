"""ASGI apps for the serving benchmark, built by factories so uvicorn can start them in a subprocess.

``raw``: a raw ASGI endpoint returning a constant (the floor of per-request cost).
``mlcore_batched`` / ``mlcore_unbatched``: mlcore's Open Inference Protocol app serving the bundle
at $MLCORE_BENCH_BUNDLE, with and without adaptive micro-batching.
"""

from __future__ import annotations

import os

_CONST = b'{"model_name":"m","outputs":[{"name":"predict","shape":[1],"datatype":"FP64","data":[0.5]}]}'


def raw():
    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                await send({"type": msg["type"] + ".complete"})
                if msg["type"] == "lifespan.shutdown":
                    return
        while True:
            msg = await receive()
            if not msg.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(_CONST)).encode())]})
        await send({"type": "http.response.body", "body": _CONST})

    return app


def _mlcore(batching: bool):
    from mlcore.deploy.bundle import Bundle
    from mlcore.serve.app import InferenceApp
    from mlcore.serve.predictor import served_model

    bundle = Bundle.load(os.environ["MLCORE_BENCH_BUNDLE"])
    return InferenceApp([served_model(bundle, name="m", version="1")], batching=batching)


def mlcore_batched():
    return _mlcore(True)


def mlcore_unbatched():
    return _mlcore(False)
