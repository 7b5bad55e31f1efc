"""The Open Inference Protocol codec and endpoints: JSON shapes, binary extension, Arrow IPC, errors."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

from mlcore.serve.protocol import ProtocolError, decode_infer_request, encode_infer_response


def _infer_json(x, y, **extra):
    return json.dumps({"id": "r1", "inputs": [
        {"name": "x", "shape": [len(x)], "datatype": "FP64", "data": x},
        {"name": "y", "shape": [len(y), 1], "datatype": "FP64", "data": [[v] for v in y]},
    ], **extra}).encode()


def test_health_and_metadata(client):
    assert client.request("GET", "/v2/health/live")["status"] == 200
    r = client.request("GET", "/v2/health/ready")
    assert r["status"] == 200 and json.loads(r["body"]) == {"ready": True}
    meta = json.loads(client.request("GET", "/v2")["body"])
    assert meta["name"] == "mlcore" and "binary_tensor_data" in meta["extensions"]
    m = json.loads(client.request("GET", "/v2/models/affine")["body"])
    assert m["name"] == "affine" and m["versions"] == ["1"]
    assert m["inputs"] == [{"name": "x", "datatype": "FP64", "shape": [-1]}, {"name": "y", "datatype": "FP64", "shape": [-1]}]
    assert client.request("GET", "/v2/models/affine/versions/1/ready")["status"] == 200


def test_infer_json(client):
    r = client.request("POST", "/v2/models/affine/infer", _infer_json([1.0, -3.0], [0.5, 0.0]))
    assert r["status"] == 200, r["body"]
    out = json.loads(r["body"])
    assert out["model_name"] == "affine" and out["model_version"] == "1" and out["id"] == "r1"
    by = {o["name"]: o for o in out["outputs"]}
    assert by["predict"] == {"name": "predict", "shape": [2], "datatype": "FP64", "data": [3.5, -5.0]}
    assert by["label"]["datatype"] == "INT64" and by["label"]["data"] == [1, 0]
    assert len(out["parameters"]["prediction_ids"]) == 2


def test_infer_matrix_input_and_output_selection(client):
    body = json.dumps({"inputs": [{"name": "input", "shape": [2, 2], "datatype": "FP32", "data": [[1, 2], [3, 4]]}],
                       "outputs": [{"name": "predict"}]}).encode()
    out = json.loads(client.request("POST", "/v2/models/affine/versions/1/infer", body)["body"])
    assert [o["name"] for o in out["outputs"]] == ["predict"]
    assert out["outputs"][0]["data"] == [5.0, 11.0]


def test_binary_extension_round_trip(client):
    x = np.array([1.0, 2.0, 3.0])
    y = np.array([0.0, 0.0, -10.0])
    head = json.dumps({"inputs": [
        {"name": "x", "shape": [3], "datatype": "FP64", "parameters": {"binary_data_size": 24}},
        {"name": "y", "shape": [3], "datatype": "FP64", "parameters": {"binary_data_size": 24}},
    ], "outputs": [{"name": "predict", "parameters": {"binary_data": True}}, {"name": "label"}]}).encode()
    r = client.request("POST", "/v2/models/affine/infer", head + x.tobytes() + y.tobytes(),
                       {"Inference-Header-Content-Length": str(len(head)), "content-type": "application/octet-stream"})
    assert r["status"] == 200, r["body"]
    n = int(r["headers"]["inference-header-content-length"])
    meta = json.loads(r["body"][:n])
    pred_spec = meta["outputs"][0]
    assert pred_spec["parameters"]["binary_data_size"] == 24 and "data" not in pred_spec
    np.testing.assert_array_equal(np.frombuffer(r["body"][n:], dtype="<f8"), [3.0, 5.0, -3.0])
    assert meta["outputs"][1]["data"] == [1, 1, 0]


def test_arrow_ipc_body(client):
    t = pa.table({"y": [1.0, 2.0], "x": [0.0, 10.0], "ignored": ["a", "b"]})
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, t.schema) as w:
        w.write_table(t)
    r = client.request("POST", "/v2/models/affine/infer", sink.getvalue().to_pybytes(),
                       {"content-type": "application/vnd.apache.arrow.stream"})
    assert r["status"] == 200 and r["headers"]["content-type"] == "application/vnd.apache.arrow.stream"
    out = ipc.open_stream(r["body"]).read_all()
    assert out.column("predict").to_pylist() == [2.0, 23.0]
    assert out.num_rows == 2 and out.column("prediction_id").null_count == 0


@pytest.mark.parametrize("body,status,needle", [
    (b"{not json", 400, "not valid JSON"),
    (b"[]", 400, "JSON object"),
    (json.dumps({"inputs": []}).encode(), 400, "non-empty `inputs`"),
    (json.dumps({"inputs": [{"name": "x", "shape": [2], "datatype": "FP99", "data": [1, 2]}]}).encode(), 400, "unknown datatype 'FP99'"),
    (json.dumps({"inputs": [{"name": "x", "shape": [3], "datatype": "FP64", "data": [1, 2]}]}).encode(), 400, "needs 3 elements, got 2"),
    (json.dumps({"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": ["a"]}]}).encode(), 400, "must be numbers, got 'a'"),
    (json.dumps({"inputs": [{"name": "x", "shape": [-1], "datatype": "FP64", "data": [1]}]}).encode(), 400, "non-negative"),
    (json.dumps({"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [1]}]}).encode(), 400, "missing inputs ['y']"),
    (json.dumps({"inputs": [{"name": "m", "shape": [1, 3], "datatype": "FP64", "data": [1, 2, 3]}]}).encode(), 400, "has 3 columns, but model `affine` expects 2"),
    (_infer_json([1.0], [1.0], outputs=[{"name": "nope"}]), 400, "unknown outputs ['nope']"),
])
def test_bad_requests_get_4xx_and_server_keeps_serving(client, body, status, needle):
    r = client.request("POST", "/v2/models/affine/infer", body)
    assert r["status"] == status
    assert needle in json.loads(r["body"])["error"]
    ok = client.request("POST", "/v2/models/affine/infer", _infer_json([1.0], [1.0]))
    assert ok["status"] == 200


def test_unknown_model_version_and_route(client):
    r = client.request("POST", "/v2/models/nope/infer", _infer_json([1.0], [1.0]))
    assert r["status"] == 404 and "unknown model `nope`" in json.loads(r["body"])["error"]
    r = client.request("GET", "/v2/models/affine/versions/9")
    assert r["status"] == 404 and "no version `9`" in json.loads(r["body"])["error"]
    assert client.request("GET", "/nowhere")["status"] == 404


def test_oversized_body_is_413():
    from mlcore.serve.app import InferenceApp
    from serve_helpers import AsgiClient, affine_model

    c = AsgiClient(InferenceApp([affine_model()], max_body_bytes=100)).start()
    try:
        r = c.request("POST", "/v2/models/affine/infer", _infer_json([1.0] * 50, [1.0] * 50))
        assert r["status"] == 413 and "exceeds the limit of 100" in json.loads(r["body"])["error"]
    finally:
        c.stop()


def test_model_errors_are_400_not_500(client):
    t = pa.table({"x": pa.array([1.0, None]), "y": [0.0, 0.0]})
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, t.schema) as w:
        w.write_table(t)
    r = client.request("POST", "/v2/models/affine/infer", sink.getvalue().to_pybytes(),
                       {"content-type": "application/vnd.apache.arrow.stream"})
    assert r["status"] == 400 and "column `x` has nulls" in json.loads(r["body"])["error"]
    assert client.request("POST", "/v2/models/affine/infer", _infer_json([1.0], [1.0]))["status"] == 200


def test_codec_binary_bytes_and_limits():
    head = json.dumps({"inputs": [{"name": "s", "shape": [2], "datatype": "BYTES",
                                   "parameters": {"binary_data_size": 4 + 2 + 4 + 3}}]}).encode()
    raw = (2).to_bytes(4, "little") + b"hi" + (3).to_bytes(4, "little") + b"you"
    req = decode_infer_request(head + raw, {"inference-header-content-length": str(len(head))})
    assert list(req.inputs["s"]) == [b"hi", b"you"]
    with pytest.raises(ProtocolError, match="does not fit"):
        decode_infer_request(head + raw[:-1] + b"", {"inference-header-content-length": str(len(head))})
    big = json.dumps({"inputs": [{"name": "x", "shape": [10, 10], "datatype": "FP64", "data": [0] * 100}]}).encode()
    with pytest.raises(ProtocolError) as exc:
        decode_infer_request(big, {}, max_elements=50)
    assert exc.value.status == 413
    body, headers = encode_infer_response("m", "2", None, {"s": np.array([b"a", b"bc"], dtype=object)}, binary=True)
    n = int(headers["inference-header-content-length"])
    assert json.loads(body[:n])["outputs"][0]["datatype"] == "BYTES"
    assert body[n:] == (1).to_bytes(4, "little") + b"a" + (2).to_bytes(4, "little") + b"bc"


def test_metrics_endpoint_counts(client):
    client.request("POST", "/v2/models/affine/infer", _infer_json([1.0], [1.0]))
    text = client.request("GET", "/metrics")["body"].decode()
    assert 'mlcore_http_requests_total{code="200",route="infer"} 1' in text
    assert "mlcore_batch_rows_bucket" in text
