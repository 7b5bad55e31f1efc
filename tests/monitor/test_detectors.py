"""Streaming detectors: River's detection points on seeded streams, batch splits, state."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

river = pytest.importorskip("river")
from river import drift  # noqa: E402

from mlcore.errors import ArtifactError  # noqa: E402
from mlcore.monitor import (ADWIN, CUSUM, DDM, EDDM, HDDMA, HDDMW, KSWIN, PageHinkley,  # noqa: E402
                            load_detector)
from reference.drift_detectors import cusum as cusum_ref  # noqa: E402


def _stream(seed, n=4000, means=(0.0, 0.8, 0.3, 1.5)):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(m, 1, n) for m in means])


def _errors(seed, n=3000, rates=(0.1, 0.3, 0.05, 0.5)):
    rng = np.random.default_rng(seed)
    return np.concatenate([(rng.random(n) < r) for r in rates]).astype(np.float64)


def _river(det, x):
    out = []
    for i, v in enumerate(x):
        det.update(v)
        if det.drift_detected:
            out.append(i)
    return out


CASES = [
    (lambda: ADWIN(), lambda: drift.ADWIN(), _stream),
    (lambda: ADWIN(clock=1, delta=0.01), lambda: drift.ADWIN(clock=1, delta=0.01), _stream),
    (lambda: PageHinkley(), lambda: drift.PageHinkley(), _stream),
    (lambda: PageHinkley(mode="up", threshold=20), lambda: drift.PageHinkley(mode="up", threshold=20), _stream),
    (lambda: DDM(), lambda: drift.binary.DDM(), _errors),
    (lambda: EDDM(), lambda: drift.binary.EDDM(), _errors),
    (lambda: HDDMA(), lambda: drift.binary.HDDMA(), _errors),
    (lambda: HDDMA(two_sided_test=True), lambda: drift.binary.HDDMA(two_sided_test=True), _errors),
    (lambda: HDDMW(), lambda: drift.binary.HDDMW(), _errors),
    (lambda: HDDMW(two_sided_test=True), lambda: drift.binary.HDDMW(two_sided_test=True), _errors),
]


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("seed", [0, 1])
def test_river_detection_points(case, seed):
    ours, theirs, gen = CASES[case]
    x = gen(seed)
    expected = _river(theirs(), x.tolist())
    assert ours().update(x).detections.tolist() == expected
    assert len(expected) > 0
    # the same points when fed in uneven batches (state carries the pending reset across)
    d = ours()
    got = []
    for a, b in ((0, 1), (1, 4001), (4001, 4003), (4003, len(x))):
        got += d.update(x[a:b]).detections.tolist()
    assert got == expected
    # and after a save / restore in the middle
    d = ours().update(x[:5000])
    d2 = load_detector(d.get_state())
    assert d.detections.tolist() + d2.update(x[5000:]).detections.tolist() == expected


@pytest.mark.parametrize("seed", [0, 3])
def test_kswin_replays_river_with_its_sampler(seed):
    x = _stream(seed, n=400, means=(0.0, 1.0, 0.0))
    expected = _river(drift.KSWIN(seed=seed), x.tolist())
    assert KSWIN(seed=seed, sampler="python").update(x).detections.tolist() == expected
    d = KSWIN(seed=seed, sampler="python").update(x[:500])
    d2 = load_detector(d.get_state())
    assert d.detections.tolist() + d2.update(x[500:]).detections.tolist() == expected


def test_kswin_fast_sampler_detects_and_restores():
    x = _stream(0, n=500, means=(0.0, 2.0, 0.0))
    d = KSWIN(seed=5).update(x)
    assert d.drift_detected and all(400 <= p < 560 or p >= 1000 for p in d.detections[:2])
    d1 = KSWIN(seed=5).update(x[:700])
    d2 = load_detector(d1.get_state())
    assert d1.detections.tolist() + d2.update(x[700:]).detections.tolist() == d.detections.tolist()


def test_cusum_against_reference():
    x = _stream(2, n=1000)
    assert CUSUM().update(x).detections.tolist() == cusum_ref(x)
    assert CUSUM(target=0.0).update(x).detections.tolist() == cusum_ref(x, target=0.0)


def test_arrow_input_nulls_nan_and_errors(tmp_path):
    x = _stream(0)
    mask = np.zeros(x.size, bool)
    mask[::7] = True
    arr = pa.array(np.where(mask, np.nan, x), mask=mask)
    chunked = pa.chunked_array([arr.slice(0, 3), arr.slice(3, 5000), arr.slice(5003)])
    expect = PageHinkley().update(x[~mask]).detections.tolist()
    assert PageHinkley().update(chunked).detections.tolist() == expect
    with pytest.raises(ValueError, match="NaN at position 2"):
        PageHinkley().update(np.array([1.0, 2.0, np.nan]))
    d = ADWIN().update(x)
    d.save(tmp_path / "a.json")
    assert load_detector(tmp_path / "a.json").get_state() == d.get_state()
    bad = d.get_state()
    bad["kind"] = "pickle"
    with pytest.raises(ArtifactError, match="Unknown detector kind"):
        load_detector(bad)
    bad = d.get_state()
    bad["arrays"]["totals"]["shape"] = [2, 2]
    with pytest.raises(ArtifactError, match="totals"):
        load_detector(bad)
    assert not ADWIN().update(pa.array([], pa.float64())).drift_detected


def test_binary_detectors_take_booleans():
    e = _errors(0) > 0
    expect = DDM().update(e.astype(float)).detections.tolist()
    assert DDM().update(e).detections.tolist() == expect
    assert DDM().update(pa.array(e)).detections.tolist() == expect
