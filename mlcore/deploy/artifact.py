"""The on-disk artifact format: a JSON manifest plus ``.npy`` arrays, every byte hashed.

A saved artifact is a folder::

    manifest.json        components, their JSON parameters, and for each array its file,
                         dtype, shape and SHA-256
    arrays/*.npy         the arrays (no object dtypes: loaded with allow_pickle=False)
    CONTENT_HASH         "sha256:<hex>" of the canonical manifest bytes

Reading verifies, in order: the manifest's hash against ``CONTENT_HASH`` (and against the hash
the caller expects, when it knows one, as a registry does); the format name and major version;
each array file's SHA-256, dtype and shape; and that no file is present that the manifest does not
list. Any failure is an :class:`~mlcore.errors.ArtifactError` naming the file. Nothing in the file
chooses code to run: turning components into objects is the caller's job, from a closed list of
kinds in the code (see :mod:`mlcore.deploy.bundle`).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from .._version import __version__
from ..errors import ArtifactError

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "Component",
    "write_artifact",
    "read_artifact",
    "content_hash_of",
]

FORMAT = "mlcore-artifact"
FORMAT_VERSION = (1, 0)
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_ALLOWED_DTYPE_KINDS = set("biufcmM")  # no objects, no void/structured, no strings


@dataclass
class Component:
    """One part of an artifact: a kind from a closed list, JSON parameters, named arrays."""

    kind: str
    params: dict = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def content_hash_of(manifest_bytes: bytes) -> str:
    return "sha256:" + hashlib.sha256(manifest_bytes).hexdigest()


def _npy_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(a), allow_pickle=False)
    return buf.getvalue()


def _check_name(what: str, name: str) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ArtifactError(
            f"{what} name {name!r} is not allowed: use letters, digits, '_', '.', '-' (at most 128, not starting with '.')"
        )


def write_artifact(path: str | os.PathLike, components: Mapping[str, Component], *, meta: Mapping | None = None) -> str:
    """Write ``components`` to the folder ``path`` (which must not exist) and return the content hash.

    The folder is written under a temporary name next to ``path`` and renamed into place, so a
    reader never sees a half-written artifact.
    """
    path = os.fspath(path)
    if os.path.exists(path):
        raise FileExistsError(f"artifact path {path!r} exists already; artifacts are immutable")
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".tmp-artifact-", dir=parent)
    try:
        os.makedirs(os.path.join(tmp, "arrays"))
        entries = {}
        for cname, comp in components.items():
            _check_name("component", cname)
            _check_name("kind", comp.kind)
            arrays = {}
            for aname, arr in comp.arrays.items():
                _check_name("array", aname)
                arr = np.asarray(arr)
                if arr.dtype.kind not in _ALLOWED_DTYPE_KINDS or arr.dtype.fields is not None:
                    raise ArtifactError(
                        f"array `{cname}.{aname}` has dtype {arr.dtype}; only numeric, bool and datetime arrays are stored"
                    )
                data = _npy_bytes(arr)
                rel = f"arrays/{cname}.{aname}.npy"
                with open(os.path.join(tmp, rel), "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                arrays[aname] = {
                    "file": rel,
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "dtype": arr.dtype.str,
                    "shape": list(arr.shape),
                }
            entries[cname] = {"kind": comp.kind, "params": comp.params, "arrays": arrays}
        manifest = {
            "format": FORMAT,
            "format_version": list(FORMAT_VERSION),
            "mlcore_version": __version__,
            "meta": dict(meta or {}),
            "components": entries,
        }
        try:
            mbytes = _canonical(manifest)
        except (TypeError, ValueError) as exc:
            raise ArtifactError(f"artifact parameters must be plain JSON (no NaN, no objects): {exc}") from exc
        digest = content_hash_of(mbytes)
        with open(os.path.join(tmp, "manifest.json"), "wb") as f:
            f.write(mbytes)
            f.flush()
            os.fsync(f.fileno())
        with open(os.path.join(tmp, "CONTENT_HASH"), "w") as f:
            f.write(digest + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return digest


def _read(path: str, rel: str) -> bytes:
    full = os.path.join(path, rel)
    if os.path.islink(full):
        raise ArtifactError(f"{rel}: symbolic links are not allowed in an artifact")
    try:
        with open(full, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise ArtifactError(f"{rel}: missing from the artifact at {path!r}") from None


def read_artifact(
    path: str | os.PathLike, *, expected_hash: str | None = None
) -> tuple[dict, dict[str, Component]]:
    """Verify and read the artifact at ``path``: ``(manifest, components)``.

    Raises :class:`ArtifactError` on any mismatch (see the module docstring).
    """
    path = os.fspath(path)
    if not os.path.isdir(path):
        raise ArtifactError(f"no artifact folder at {path!r}")
    mbytes = _read(path, "manifest.json")
    stored = _read(path, "CONTENT_HASH").decode("ascii", "replace").strip()
    digest = content_hash_of(mbytes)
    if stored != digest:
        raise ArtifactError(f"manifest.json: its hash {digest} does not match CONTENT_HASH ({stored}); the artifact was modified")
    if expected_hash is not None and digest != expected_hash:
        raise ArtifactError(f"manifest.json: content hash {digest} differs from the expected {expected_hash}")
    try:
        manifest = json.loads(mbytes)
    except ValueError as exc:
        raise ArtifactError(f"manifest.json: not valid JSON ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArtifactError(f"manifest.json: not an mlcore artifact (format {manifest.get('format') if isinstance(manifest, dict) else None!r})")
    version = manifest.get("format_version")
    if not (isinstance(version, list) and len(version) == 2 and all(isinstance(v, int) for v in version)):
        raise ArtifactError(f"manifest.json: bad format_version {version!r}")
    if version[0] > FORMAT_VERSION[0]:
        raise ArtifactError(
            f"manifest.json: format version {version[0]}.{version[1]} is newer than this mlcore reads "
            f"({FORMAT_VERSION[0]}.x); upgrade mlcore"
        )
    comps = manifest.get("components")
    if not isinstance(comps, dict):
        raise ArtifactError("manifest.json: `components` must be an object")
    listed = {"manifest.json", "CONTENT_HASH"}
    out: dict[str, Component] = {}
    for cname, entry in comps.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("arrays"), dict):
            raise ArtifactError(f"manifest.json: component `{cname}` is malformed")
        _check_name("component", cname)
        _check_name("kind", entry.get("kind"))
        arrays = {}
        for aname, spec in entry["arrays"].items():
            _check_name("array", aname)
            rel = spec.get("file") if isinstance(spec, dict) else None
            if rel != f"arrays/{cname}.{aname}.npy":
                raise ArtifactError(f"manifest.json: array `{cname}.{aname}` points to an unexpected file {rel!r}")
            listed.add(rel)
            data = _read(path, rel)
            if hashlib.sha256(data).hexdigest() != spec.get("sha256"):
                raise ArtifactError(f"{rel}: SHA-256 does not match the manifest; the file was modified")
            try:
                arr = np.load(io.BytesIO(data), allow_pickle=False)
            except ValueError as exc:
                raise ArtifactError(f"{rel}: not a plain .npy array ({exc})") from exc
            if arr.dtype.str != spec.get("dtype") or list(arr.shape) != spec.get("shape"):
                raise ArtifactError(
                    f"{rel}: dtype/shape {arr.dtype.str}{list(arr.shape)} differ from the manifest's "
                    f"{spec.get('dtype')}{spec.get('shape')}"
                )
            arr.flags.writeable = False
            arrays[aname] = arr
        out[cname] = Component(kind=entry["kind"], params=entry.get("params") or {}, arrays=arrays)
    for root, dirs, files in os.walk(path):
        for name in files:
            rel = os.path.relpath(os.path.join(root, name), path).replace(os.sep, "/")
            if rel not in listed:
                raise ArtifactError(f"{rel}: file not listed in the manifest")
    return manifest, out
