"""Shared helpers for the serving tests: a served model on mlcore kernels and an in-process ASGI driver."""

from __future__ import annotations

import asyncio

import numpy as np
import pyarrow as pa

import mlcore.compute as mc
from mlcore.serve.app import ServedModel


def affine_model(version="1", scale=2.0, shift=1.0, name="affine"):
    """A served model computing scale*x + shift + y with mlcore's kernels."""

    def infer(table: pa.Table):
        if table.column("x").null_count:
            raise ValueError("column `x` has nulls; this model does not accept missing values")
        a = mc.affine(table, "x", scale=scale, shift=shift).to_numpy()
        y = table.column("y").to_numpy()
        pred = a + y
        return {"predict": pred, "label": (pred > 0).astype(np.int64)}

    return ServedModel(name=name, version=version, infer=infer,
                       inputs=[("x", "FP64"), ("y", "FP64")], outputs=[("predict", "FP64"), ("label", "INT64")],
                       content_hash=f"sha256:{version * 8}")


class AsgiClient:
    """Drives an ASGI app in process: lifespan events and HTTP requests, no network."""

    def __init__(self, app):
        self.app = app
        self.loop = asyncio.new_event_loop()
        self._lifespan_in: asyncio.Queue | None = None

    def start(self):
        async def boot():
            self._lifespan_in = asyncio.Queue()
            out = asyncio.Queue()
            self._lifespan_task = asyncio.ensure_future(
                self.app({"type": "lifespan"}, self._lifespan_in.get, out.put))
            await self._lifespan_in.put({"type": "lifespan.startup"})
            msg = await out.get()
            assert msg["type"] == "lifespan.startup.complete", msg
            self._lifespan_out = out
        self.loop.run_until_complete(boot())
        return self

    def stop(self):
        async def down():
            await self._lifespan_in.put({"type": "lifespan.shutdown"})
            msg = await self._lifespan_out.get()
            assert msg["type"] == "lifespan.shutdown.complete"
        self.loop.run_until_complete(down())
        self.loop.close()

    async def arequest(self, method, path, body=b"", headers=None):
        headers = {k.lower(): v for k, v in (headers or {}).items()}
        headers.setdefault("content-length", str(len(body)))
        sent = {"body": False}
        out = {"status": None, "headers": {}, "body": b""}

        async def receive():
            if not sent["body"]:
                sent["body"] = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.sleep(3600)

        async def send(msg):
            if msg["type"] == "http.response.start":
                out["status"] = msg["status"]
                out["headers"] = {k.decode(): v.decode() for k, v in msg["headers"]}
            else:
                out["body"] += msg.get("body", b"")

        scope = {"type": "http", "method": method, "path": path,
                 "headers": [(k.encode(), str(v).encode()) for k, v in headers.items()]}
        await self.app(scope, receive, send)
        return out

    def request(self, method, path, body=b"", headers=None):
        return self.loop.run_until_complete(self.arequest(method, path, body, headers))
