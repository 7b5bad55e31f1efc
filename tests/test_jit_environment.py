"""Kernels run with a read-only package directory and no writable home; the threading layer is
safe with concurrent threads and with fork."""

from __future__ import annotations

import glob
import os
import shutil
import stat
import subprocess
import sys
import textwrap

import pytest

import mlcore

REPO = os.path.dirname(os.path.dirname(os.path.abspath(mlcore.__file__)))

KERNEL_SCRIPT = textwrap.dedent(
    """
    import json, os, sys, tempfile
    tempfile.tempdir = os.environ.get("FORCE_TEMPDIR") or None
    import pyarrow as pa
    import mlcore, mlcore.compute as mc
    from mlcore._kernels import _jit
    arr = pa.array([1.0, None, 2.5, 4.0]).slice(1)
    print(json.dumps({"file": mlcore.__file__, "sum": mc.sum(arr), "cache": _jit.CACHE_DIR,
                      "layer": _jit.THREADING_LAYER}))
    """
)


def _readonly_install(tmp_path):
    """Lay the package out as an installed copy (kernels/ as mlcore/_kernels) and make it read-only."""
    site = tmp_path / "site"
    shutil.copytree(os.path.join(REPO, "mlcore"), site / "mlcore",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(os.path.join(REPO, "kernels"), site / "mlcore" / "_kernels",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for root, dirs, files in os.walk(site):
        for name in dirs + files:
            p = os.path.join(root, name)
            os.chmod(p, os.stat(p).st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    os.chmod(site, 0o555)
    return site


def _run_restricted(cmd, env):
    """Run without the power to ignore file permissions (root would otherwise write anywhere)."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: cannot drop CAP_DAC_OVERRIDE")
        cmd = [setpriv, "--bounding-set=-dac_override,-dac_read_search",
               "--inh-caps=-dac_override,-dac_read_search"] + cmd
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, cwd=env["HOME"])


def _env(tmp_path, site, **extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NUMBA_", "MLCORE_", "XDG_", "PYTHON"))}
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    os.chmod(home, 0o555)
    env.update(HOME=str(home), PYTHONPATH=str(site), PYTHONDONTWRITEBYTECODE="1")
    env.update(extra)
    return env


def _result(proc):
    assert proc.returncode == 0, proc.stderr
    import json

    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_readonly_package_and_home_fall_back_to_temp(tmp_path):
    site = _readonly_install(tmp_path)
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = _env(tmp_path, site, TMPDIR=str(tmpdir), FORCE_TEMPDIR=str(tmpdir))
    res = _result(_run_restricted([sys.executable, "-c", KERNEL_SCRIPT], env))
    assert res["file"].startswith(str(site))
    assert res["sum"] == 6.5
    assert res["cache"].startswith(str(tmpdir))
    assert glob.glob(os.path.join(res["cache"], "**", "*.nbi"), recursive=True), "no cache entries written"
    # nothing was written into the package
    assert not glob.glob(os.path.join(site, "**", "__pycache__"), recursive=True)


def test_cache_dir_from_environment(tmp_path):
    site = _readonly_install(tmp_path)
    cache = tmp_path / "kernel-cache"
    env = _env(tmp_path, site, MLCORE_CACHE_DIR=str(cache))
    res = _result(_run_restricted([sys.executable, "-c", KERNEL_SCRIPT], env))
    assert res["cache"] == str(cache)
    assert glob.glob(os.path.join(cache, "**", "*.nbi"), recursive=True)
    # a second process reuses the entries
    before = sorted(glob.glob(os.path.join(cache, "**", "*.nbc"), recursive=True))
    res2 = _result(_run_restricted([sys.executable, "-c", KERNEL_SCRIPT], env))
    assert res2["sum"] == 6.5
    assert sorted(glob.glob(os.path.join(cache, "**", "*.nbc"), recursive=True)) == before


def test_nothing_writable_still_runs_without_cache(tmp_path):
    site = _readonly_install(tmp_path)
    ro_tmp = tmp_path / "ro-tmp"
    ro_tmp.mkdir()
    os.chmod(ro_tmp, 0o555)
    env = _env(tmp_path, site, FORCE_TEMPDIR=str(ro_tmp))
    res = _result(_run_restricted([sys.executable, "-c", KERNEL_SCRIPT], env))
    assert res["sum"] == 6.5 and res["cache"] is None


def test_unwritable_cache_dir_warns_and_falls_back(tmp_path):
    site = _readonly_install(tmp_path)
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o555)
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = _env(tmp_path, site, MLCORE_CACHE_DIR=str(ro / "cache"), FORCE_TEMPDIR=str(tmpdir))
    proc = _run_restricted([sys.executable, "-c", KERNEL_SCRIPT], env)
    res = _result(proc)
    assert res["sum"] == 6.5 and res["cache"].startswith(str(tmpdir))
    assert "is not writable" in proc.stderr and str(ro / "cache") in proc.stderr


THREADS_AND_FORK = textwrap.dedent(
    """
    import os, threading
    import numpy as np
    from mlcore._kernels._jit import kernel, THREADING_LAYER, parallel_section
    from numba import prange

    @kernel(parallel=True)
    def psum(x):
        acc = 0.0
        for i in prange(x.size):
            acc += x[i]
        return acc

    x = np.ones(1_000_000)
    assert psum(x) == 1e6
    errors = []
    def work():
        try:
            for _ in range(20):
                with parallel_section():
                    assert psum(x) == 1e6
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
    ts = [threading.Thread(target=work) for _ in range(4)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    assert not errors, errors
    pid = os.fork()
    if pid == 0:
        os._exit(0 if psum(np.ones(1000)) == 1000.0 else 3)
    _, status = os.waitpid(pid, 0)
    print(THREADING_LAYER, os.waitstatus_to_exitcode(status))
    """
)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_threading_layer_is_thread_and_fork_safe(tmp_path):
    script = tmp_path / "threads_and_fork.py"
    script.write_text(THREADS_AND_FORK)
    env = dict(os.environ, MLCORE_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, env=env,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    # TBB may print a note about joining its workers before fork(); the verdict is the last line
    layer, child = proc.stdout.strip().splitlines()[-1].split()
    assert layer in ("tbb", "workqueue")
    assert child == "0", f"forked child failed under {layer}: {proc.stderr}"
