"""The folder registry: versions, aliases by compare-and-swap, promotion gate, rollback, audit,
and several writer processes at once."""

from __future__ import annotations

import json
import multiprocessing as mp
import os

import numpy as np
import pytest

from mlcore.deploy.artifact import Component, read_artifact, write_artifact
from mlcore.deploy.registry import AliasConflict, PromotionRefused, Registry
from mlcore.errors import ArtifactError


def _artifact(path, seed):
    return write_artifact(path, {"model": Component("linear", {"seed": seed}, {"w": np.full(4, float(seed))})})


def test_publish_get_alias_rollback(tmp_path):
    reg = Registry(tmp_path / "reg")
    d1 = _artifact(tmp_path / "a1", 1)
    d2 = _artifact(tmp_path / "a2", 2)
    v1 = reg.publish("flights", tmp_path / "a1", info={"auc": 0.8})
    v2 = reg.publish("flights", tmp_path / "a2")
    assert (v1.version, v2.version) == (1, 2)
    assert (v1.content_hash, v2.content_hash) == (d1, d2)
    assert reg.get("flights").version == 2 and reg.get("flights", 1).info == {"auc": 0.8}
    _, comps = read_artifact(reg.get("flights", 2).path, expected_hash=d2)
    assert comps["model"].params == {"seed": 2}
    reg.set_alias("flights", "production", 1, expected=None)
    with pytest.raises(AliasConflict, match="points to version 1, not the expected 2"):
        reg.set_alias("flights", "production", 2, expected=2)
    reg.set_alias("flights", "production", 2, expected=1)
    assert reg.get("flights", "production").version == 2
    assert reg.rollback("flights", "production").version == 1
    assert reg.aliases("flights") == {"production": 1}
    with pytest.raises(KeyError, match="no earlier version"):
        reg.rollback("flights", "production")
    events = [e["event"] for e in reg.audit_log()]
    assert events == ["publish", "publish", "alias", "alias", "rollback"]


def test_blobs_are_deduplicated_and_read_only(tmp_path):
    reg = Registry(tmp_path / "reg")
    _artifact(tmp_path / "a", 7)
    v1 = reg.publish("m", tmp_path / "a")
    v2 = reg.publish("other", tmp_path / "a")
    assert v1.path == v2.path
    for root, _, files in os.walk(v1.path):
        for f in files:
            assert not os.stat(os.path.join(root, f)).st_mode & 0o222


def test_tampered_artifact_is_not_published_and_tampered_blob_fails_verify(tmp_path):
    reg = Registry(tmp_path / "reg")
    _artifact(tmp_path / "a", 3)
    p = tmp_path / "a" / "arrays" / "model.w.npy"
    good = p.read_bytes()
    p.write_bytes(good[:-1] + bytes([good[-1] ^ 1]))
    with pytest.raises(ArtifactError, match="model.w.npy"):
        reg.publish("m", tmp_path / "a")
    assert reg.versions("m") == []
    p.write_bytes(good)
    mv = reg.publish("m", tmp_path / "a")
    blob_file = os.path.join(mv.path, "arrays", "model.w.npy")
    os.chmod(blob_file, 0o644)
    with open(blob_file, "r+b") as f:
        f.seek(-1, 2)
        f.write(b"\x00")
    with pytest.raises(ArtifactError, match="model.w.npy"):
        reg.verify("m", 1)


def test_promotion_gate(tmp_path):
    reg = Registry(tmp_path / "reg")
    _artifact(tmp_path / "a", 1)
    _artifact(tmp_path / "b", 2)
    reg.publish("m", tmp_path / "a", info={"auc": 0.9})
    reg.publish("m", tmp_path / "b", info={"auc": 0.7})

    def gate(mv):
        ok = mv.info["auc"] >= 0.8
        return ok, {"auc": mv.info["auc"], "required": 0.8}

    assert reg.promote("m", 1, gate=gate).version == 1
    with pytest.raises(PromotionRefused) as exc:
        reg.promote("m", 2, gate=gate)
    assert exc.value.evidence == {"auc": 0.7, "required": 0.8}
    assert reg.alias("m", "production") == 1
    refused = [e for e in reg.audit_log() if e["event"] == "promotion_refused"]
    assert refused and refused[0]["evidence"]["auc"] == 0.7


def test_bad_names_are_refused(tmp_path):
    reg = Registry(tmp_path / "reg")
    with pytest.raises(ValueError, match="model name"):
        reg.versions("../etc")
    with pytest.raises(KeyError, match="no alias"):
        reg.get("m", "production")


def _writer(root, src_root, worker, n, queue):
    reg = Registry(root)
    got = []
    for i in range(n):
        src = os.path.join(src_root, f"w{worker}-{i}")
        _artifact(src, worker * 1000 + i)
        mv = reg.publish("shared", src)
        got.append((mv.version, mv.content_hash))
        while True:  # move the alias by compare-and-swap, retrying on conflict
            cur = reg.alias("shared", "champion")
            try:
                reg.set_alias("shared", "champion", mv.version, expected=cur)
                break
            except AliasConflict:
                continue
    queue.put(got)


def test_concurrent_writer_processes_lose_nothing(tmp_path):
    root = str(tmp_path / "reg")
    Registry(root)
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    workers, n = 4, 6
    procs = [ctx.Process(target=_writer, args=(root, str(tmp_path), w, n, q)) for w in range(workers)]
    for p in procs:
        p.start()
    results = [q.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    published = sorted(v for r in results for v in r)
    reg = Registry(root)
    versions = reg.versions("shared")
    assert [v.version for v in versions] == list(range(1, workers * n + 1))
    assert sorted((v.version, v.content_hash) for v in versions) == published
    for v in versions:  # every version complete and verified
        reg.verify("shared", v.version)
    log = reg.audit_log()
    assert sum(e["event"] == "publish" for e in log) == workers * n
    assert sum(e["event"] == "alias" for e in log) == workers * n
    assert reg.alias("shared", "champion") in {v.version for v in versions}
    with open(os.path.join(root, "models", "shared", "aliases.json")) as f:
        assert len(json.load(f)["champion"]["history"]) == workers * n


def test_promotion_gated_by_a_goal(tmp_path):
    from mlcore.deploy.registry import goal_gate
    from mlcore.goals import Goal

    reg = Registry(tmp_path / "reg")
    _artifact(tmp_path / "a", 1)
    _artifact(tmp_path / "b", 2)
    reg.publish("m", tmp_path / "a", info={"metrics": {"roc_auc": 0.83, "log_loss": 0.4}})
    reg.publish("m", tmp_path / "b", info={"metrics": {"roc_auc": 0.74}})
    gate = goal_gate(Goal.single("g", ["roc_auc >= 0.8"]))
    assert reg.promote("m", 1, gate=gate).version == 1
    with pytest.raises(PromotionRefused) as exc:
        reg.promote("m", 2, gate=gate)
    ev = exc.value.evidence["roc_auc"]
    assert ev["passed"] is False and ev["value"] == 0.74 and abs(ev["shortfall"] - 0.06) < 1e-12
    assert reg.alias("m", "production") == 1
