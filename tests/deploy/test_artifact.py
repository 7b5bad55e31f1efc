"""The artifact format: round trip, and every kind of tampering refused with the file named."""

from __future__ import annotations

import io
import json
import os
import shutil

import numpy as np
import pytest

from mlcore.deploy.artifact import Component, FORMAT_VERSION, content_hash_of, read_artifact, write_artifact
from mlcore.errors import ArtifactError


def _components():
    return {
        "model": Component("linear", {"n_features": 3, "classes": [0, 1]},
                           {"coef": np.array([0.5, -1.25, 2.0]), "intercept": np.array([0.1])}),
        "plan": Component("plan", {"steps": ["scale"]}, {"mean": np.arange(3.0), "ids": np.arange(3, dtype=np.uint32)}),
        "lineage": Component("lineage", {"data_hash": "abc"}, {}),
    }


@pytest.fixture
def artifact(tmp_path):
    path = tmp_path / "a"
    digest = write_artifact(path, _components(), meta={"name": "flights"})
    return path, digest


def test_round_trip(artifact):
    path, digest = artifact
    manifest, comps = read_artifact(path, expected_hash=digest)
    assert manifest["meta"] == {"name": "flights"}
    assert comps["model"].params == {"n_features": 3, "classes": [0, 1]}
    np.testing.assert_array_equal(comps["model"].arrays["coef"], [0.5, -1.25, 2.0])
    assert comps["plan"].arrays["ids"].dtype == np.uint32
    assert not comps["model"].arrays["coef"].flags.writeable
    assert digest.startswith("sha256:") and len(digest) == 71


def test_same_content_same_hash(tmp_path):
    d1 = write_artifact(tmp_path / "x", _components())
    d2 = write_artifact(tmp_path / "y", _components())
    assert d1 == d2


def _flip_byte(p, pos=-1):
    data = bytearray(p.read_bytes())
    data[pos] ^= 0x01
    p.write_bytes(bytes(data))


def test_changed_array_byte_is_refused(artifact):
    path, digest = artifact
    _flip_byte(path / "arrays" / "model.coef.npy")
    with pytest.raises(ArtifactError, match=r"arrays/model\.coef\.npy: SHA-256"):
        read_artifact(path)


def test_changed_manifest_is_refused(artifact):
    path, _ = artifact
    m = path / "manifest.json"
    m.write_bytes(m.read_bytes().replace(b'"n_features":3', b'"n_features":4'))
    with pytest.raises(ArtifactError, match="manifest.json"):
        read_artifact(path)


def test_consistent_rewrite_still_caught_by_expected_hash(artifact):
    path, digest = artifact
    m = path / "manifest.json"
    new = m.read_bytes().replace(b'"n_features":3', b'"n_features":4')
    m.write_bytes(new)
    (path / "CONTENT_HASH").write_text(content_hash_of(new) + "\n")
    read_artifact(path)  # self-consistent, so only a pinned hash can tell
    with pytest.raises(ArtifactError, match="differs from the expected"):
        read_artifact(path, expected_hash=digest)


def test_changed_content_hash_file_is_refused(artifact):
    path, _ = artifact
    _flip_byte(path / "CONTENT_HASH", pos=10)
    with pytest.raises(ArtifactError, match="CONTENT_HASH"):
        read_artifact(path)


def test_extra_missing_and_linked_files_are_refused(artifact, tmp_path):
    path, _ = artifact
    (path / "arrays" / "evil.npy").write_bytes(b"x")
    with pytest.raises(ArtifactError, match="evil.npy: file not listed"):
        read_artifact(path)
    os.unlink(path / "arrays" / "evil.npy")
    os.unlink(path / "arrays" / "plan.mean.npy")
    with pytest.raises(ArtifactError, match="plan.mean.npy: missing"):
        read_artifact(path)
    other = tmp_path / "elsewhere.npy"
    np.save(other, np.arange(3.0))
    os.symlink(other, path / "arrays" / "plan.mean.npy")
    with pytest.raises(ArtifactError, match="symbolic links"):
        read_artifact(path)


def _rewrite_manifest(path, edit):
    m = json.loads((path / "manifest.json").read_bytes())
    edit(m)
    data = json.dumps(m, sort_keys=True, separators=(",", ":")).encode()
    (path / "manifest.json").write_bytes(data)
    (path / "CONTENT_HASH").write_text(content_hash_of(data) + "\n")


def test_newer_major_version_is_refused(artifact):
    path, _ = artifact
    _rewrite_manifest(path, lambda m: m.__setitem__("format_version", [FORMAT_VERSION[0] + 1, 0]))
    with pytest.raises(ArtifactError, match="newer than this mlcore reads"):
        read_artifact(path)


def test_pickled_object_array_is_never_loaded(artifact):
    path, _ = artifact
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    data = buf.getvalue()
    (path / "arrays" / "model.coef.npy").write_bytes(data)
    import hashlib

    def edit(m):
        m["components"]["model"]["arrays"]["coef"].update(sha256=hashlib.sha256(data).hexdigest(), dtype="|O", shape=[1])

    _rewrite_manifest(path, edit)
    with pytest.raises(ArtifactError, match="not a plain .npy"):
        read_artifact(path)


def test_path_escape_in_manifest_is_refused(artifact):
    path, _ = artifact
    _rewrite_manifest(path, lambda m: m["components"]["model"]["arrays"]["coef"].__setitem__("file", "../../etc/passwd"))
    with pytest.raises(ArtifactError, match="unexpected file"):
        read_artifact(path)


def test_writer_refuses_objects_bad_names_and_nan_params(tmp_path):
    with pytest.raises(ArtifactError, match="dtype object"):
        write_artifact(tmp_path / "o", {"m": Component("k", {}, {"x": np.array(["a", 1], dtype=object)})})
    with pytest.raises(ArtifactError, match="not allowed"):
        write_artifact(tmp_path / "n", {"../m": Component("k")})
    with pytest.raises(ArtifactError, match="plain JSON"):
        write_artifact(tmp_path / "j", {"m": Component("k", {"t": float("nan")})})
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp")], "temporary folders left behind"
    write_artifact(tmp_path / "ok", {"m": Component("k")})
    with pytest.raises(FileExistsError):
        write_artifact(tmp_path / "ok", {"m": Component("k")})
    shutil.rmtree(tmp_path / "ok")
