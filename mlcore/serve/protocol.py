"""The Open Inference Protocol (KServe V2) REST codec, with the binary tensor data extension.

Pure functions: bytes and headers in, NumPy tensors out, and back. Every malformed request is a
:class:`ProtocolError` carrying the HTTP status and a message that names the offending input,
field and value; the server turns it into ``{"error": message}``.

Binary extension: when the ``Inference-Header-Content-Length`` header is present, the body is
that many bytes of JSON followed by the raw tensors, in input order, for every input whose
``parameters.binary_data_size`` is set. Outputs are returned in binary when the request asks for
it (``parameters.binary_data_output`` for all outputs, or ``outputs[i].parameters.binary_data``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "ProtocolError",
    "InferRequest",
    "DATATYPES",
    "decode_infer_request",
    "encode_infer_response",
    "datatype_of",
]

#: OIP datatype -> NumPy dtype (BYTES is an object array of bytes).
DATATYPES: dict[str, np.dtype] = {
    "BOOL": np.dtype(np.bool_),
    "UINT8": np.dtype(np.uint8),
    "UINT16": np.dtype(np.uint16),
    "UINT32": np.dtype(np.uint32),
    "UINT64": np.dtype(np.uint64),
    "INT8": np.dtype(np.int8),
    "INT16": np.dtype(np.int16),
    "INT32": np.dtype(np.int32),
    "INT64": np.dtype(np.int64),
    "FP16": np.dtype(np.float16),
    "FP32": np.dtype(np.float32),
    "FP64": np.dtype(np.float64),
    "BYTES": np.dtype(object),
}
_BY_DTYPE = {v: k for k, v in DATATYPES.items() if k != "BYTES"}
HEADER_LENGTH = "inference-header-content-length"


class ProtocolError(Exception):
    """A request that does not follow the protocol; ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass
class InferRequest:
    id: str | None
    inputs: dict[str, np.ndarray]
    parameters: dict = field(default_factory=dict)
    outputs: list[str] | None = None
    binary_outputs: set[str] = field(default_factory=set)
    binary_all: bool = False


def datatype_of(a: np.ndarray) -> str:
    if a.dtype == object or a.dtype.kind in "SU":
        return "BYTES"
    try:
        return _BY_DTYPE[a.dtype]
    except KeyError:
        raise ProtocolError(f"output dtype {a.dtype} has no Open Inference Protocol datatype", 500) from None


def _flatten(data: Any, out: list) -> None:
    if isinstance(data, list):
        for x in data:
            _flatten(x, out)
    else:
        out.append(data)


def _fast_numeric(data: Any, dtype: np.dtype, count: int) -> np.ndarray | None:
    """One NumPy conversion for well-formed numeric data; None when anything needs a closer look."""
    if not isinstance(data, list):
        return None
    try:
        arr = np.asarray(data)
    except ValueError:  # ragged nesting
        return None
    kind = arr.dtype.kind
    if dtype.kind == "b":
        ok = kind == "b"
    elif dtype.kind == "f":
        ok = kind in "if"
    else:
        ok = kind in "iu"
    if not ok or arr.size != count:
        return None
    try:
        return arr.astype(dtype, casting="same_kind" if dtype.kind != "f" else "unsafe").reshape(-1)
    except (TypeError, ValueError, OverflowError):
        return None


def _slow_numeric(name: str, dt: str, data: Any, count: int) -> np.ndarray:
    flat: list = []
    _flatten(data, flat)
    if len(flat) != count:
        raise ProtocolError(f"input `{name}`: needs {count} elements, got {len(flat)}")
    if dt == "BOOL":
        if not all(isinstance(x, bool) for x in flat):
            raise ProtocolError(f"input `{name}`: BOOL data must be true/false")
    elif not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in flat):
        bad = next(x for x in flat if not (isinstance(x, (int, float)) and not isinstance(x, bool)))
        raise ProtocolError(f"input `{name}`: {dt} data must be numbers, got {bad!r}")
    elif DATATYPES[dt].kind in "iu" and not all(isinstance(x, int) for x in flat):
        bad = next(x for x in flat if not isinstance(x, int))
        raise ProtocolError(f"input `{name}`: {dt} data must be integers, got {bad!r}")
    try:
        return np.array(flat, dtype=DATATYPES[dt])
    except (OverflowError, ValueError) as exc:
        raise ProtocolError(f"input `{name}`: data does not fit {dt}: {exc}") from None


def _as_shape(name: str, shape: Any) -> tuple[int, ...]:
    if not isinstance(shape, list) or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape):
        raise ProtocolError(f"input `{name}`: `shape` must be a list of non-negative integers, got {shape!r}")
    return tuple(shape)


def _decode_bytes_tensor(name: str, raw: bytes, count: int) -> np.ndarray:
    # each element: 4-byte little-endian length, then the bytes
    out = np.empty(count, dtype=object)
    pos = 0
    for i in range(count):
        if pos + 4 > len(raw):
            raise ProtocolError(f"input `{name}`: binary BYTES data ends early at element {i}")
        n = int.from_bytes(raw[pos:pos + 4], "little")
        pos += 4
        if pos + n > len(raw):
            raise ProtocolError(f"input `{name}`: binary BYTES element {i} claims {n} bytes past the end")
        out[i] = raw[pos:pos + n]
        pos += n
    if pos != len(raw):
        raise ProtocolError(f"input `{name}`: {len(raw) - pos} bytes left over after {count} BYTES elements")
    return out


def decode_infer_request(body: bytes, headers: dict[str, str], *, max_elements: int = 50_000_000) -> InferRequest:
    """Parse an infer request body (JSON, or JSON + binary tensors) into NumPy arrays."""
    header_len = headers.get(HEADER_LENGTH)
    if header_len is not None:
        try:
            n = int(header_len)
        except ValueError:
            raise ProtocolError(f"header Inference-Header-Content-Length must be an integer, got {header_len!r}") from None
        if not 0 <= n <= len(body):
            raise ProtocolError(f"header Inference-Header-Content-Length is {n}, but the body has {len(body)} bytes")
        json_part, binary = body[:n], body[n:]
    else:
        json_part, binary = body, b""
    try:
        req = json.loads(json_part)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"request body is not valid JSON: {exc}") from None
    if not isinstance(req, dict):
        raise ProtocolError(f"request body must be a JSON object, got {type(req).__name__}")
    inputs = req.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise ProtocolError("request needs a non-empty `inputs` list")
    params = req.get("parameters") or {}
    if not isinstance(params, dict):
        raise ProtocolError("`parameters` must be a JSON object")
    out: dict[str, np.ndarray] = {}
    pos = 0
    for i, spec in enumerate(inputs):
        if not isinstance(spec, dict):
            raise ProtocolError(f"inputs[{i}] must be a JSON object")
        name = spec.get("name")
        if not isinstance(name, str) or not name:
            raise ProtocolError(f"inputs[{i}]: `name` must be a non-empty string")
        if name in out:
            raise ProtocolError(f"input `{name}` appears twice")
        dt = spec.get("datatype")
        if dt not in DATATYPES:
            raise ProtocolError(f"input `{name}`: unknown datatype {dt!r}; expected one of {sorted(DATATYPES)}")
        shape = _as_shape(name, spec.get("shape"))
        count = math.prod(shape)
        if count > max_elements:
            raise ProtocolError(f"input `{name}`: {count} elements exceed the limit of {max_elements}", 413)
        iparams = spec.get("parameters") or {}
        size = iparams.get("binary_data_size") if isinstance(iparams, dict) else None
        if size is not None:
            if not isinstance(size, int) or size < 0 or pos + size > len(binary):
                raise ProtocolError(f"input `{name}`: binary_data_size {size!r} does not fit the {len(binary) - pos} binary bytes left")
            raw = binary[pos:pos + size]
            pos += size
            if dt == "BYTES":
                arr = _decode_bytes_tensor(name, raw, count)
            else:
                dtype = DATATYPES[dt]
                if size != count * dtype.itemsize:
                    raise ProtocolError(
                        f"input `{name}`: {size} binary bytes, but shape {list(shape)} of {dt} needs {count * dtype.itemsize}"
                    )
                arr = np.frombuffer(raw, dtype=dtype.newbyteorder("<")).astype(dtype, copy=False)
        else:
            data = spec.get("data")
            if data is None:
                raise ProtocolError(f"input `{name}`: needs `data` or parameters.binary_data_size")
            if dt != "BYTES":
                arr = _fast_numeric(data, DATATYPES[dt], count)
                if arr is None:
                    arr = _slow_numeric(name, dt, data, count)
            else:
                flat: list = []
                _flatten(data, flat)
                if len(flat) != count:
                    raise ProtocolError(f"input `{name}`: shape {list(shape)} needs {count} elements, got {len(flat)}")
                if not all(isinstance(x, str) for x in flat):
                    raise ProtocolError(f"input `{name}`: BYTES data must be strings")
                arr = np.array([x.encode() for x in flat] if flat else [], dtype=object)
            if arr.size != count:
                raise ProtocolError(f"input `{name}`: shape {list(shape)} needs {count} elements, got {arr.size}")
        out[name] = arr.reshape(shape)
    if pos != len(binary):
        raise ProtocolError(f"{len(binary) - pos} binary bytes after the last input are not claimed by any binary_data_size")
    wanted = None
    binary_outputs: set[str] = set()
    if req.get("outputs") is not None:
        if not isinstance(req["outputs"], list):
            raise ProtocolError("`outputs` must be a list")
        wanted = []
        for j, o in enumerate(req["outputs"]):
            if not isinstance(o, dict) or not isinstance(o.get("name"), str):
                raise ProtocolError(f"outputs[{j}] must be an object with a `name`")
            wanted.append(o["name"])
            op = o.get("parameters") or {}
            if isinstance(op, dict) and op.get("binary_data"):
                binary_outputs.add(o["name"])
    rid = req.get("id")
    if rid is not None and not isinstance(rid, str):
        raise ProtocolError(f"`id` must be a string, got {rid!r}")
    return InferRequest(rid, out, params, wanted, binary_outputs, bool(params.get("binary_data_output")))


def _bytes_element(x: Any) -> bytes:
    return x if isinstance(x, bytes) else str(x).encode()


def encode_infer_response(
    model_name: str,
    model_version: str | None,
    request_id: str | None,
    outputs: dict[str, np.ndarray],
    *,
    binary: set[str] | bool = False,
    parameters: dict | None = None,
) -> tuple[bytes, dict[str, str]]:
    """The response body and extra headers (the binary header when any output is binary)."""
    entries = []
    blobs = []
    for name, arr in outputs.items():
        arr = np.asarray(arr)
        dt = datatype_of(arr)
        entry: dict[str, Any] = {"name": name, "shape": list(arr.shape), "datatype": dt}
        as_binary = binary is True or (isinstance(binary, set) and name in binary)
        if as_binary:
            if dt == "BYTES":
                raw = b"".join(len(b).to_bytes(4, "little") + b for b in map(_bytes_element, arr.ravel()))
            else:
                raw = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<")).tobytes()
            entry["parameters"] = {"binary_data_size": len(raw)}
            blobs.append(raw)
        elif dt == "BYTES":
            entry["data"] = [_bytes_element(x).decode("utf-8", "replace") for x in arr.ravel()]
        else:
            entry["data"] = arr.ravel().tolist()
        entries.append(entry)
    resp: dict[str, Any] = {"model_name": model_name, "outputs": entries}
    if model_version is not None:
        resp["model_version"] = str(model_version)
    if request_id is not None:
        resp["id"] = request_id
    if parameters:
        resp["parameters"] = parameters
    head = json.dumps(resp, separators=(",", ":"), allow_nan=True).encode()
    if not blobs:
        return head, {"content-type": "application/json"}
    return head + b"".join(blobs), {
        "content-type": "application/octet-stream",
        HEADER_LENGTH: str(len(head)),
    }
