"""Pose error: NeMo rotation + geodesic angle, against logm (the papers' code) and scipy's Rotation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
from scipy.spatial.transform import Rotation

from helpers import assert_close
from partlift.geometry.transforms import nemo_rotation
from partlift.metrics.pose import pose_error, pose_errors, pose_tables, rotation_geodesic, summarize_pose_errors


def ref_rotation(a, e, t):
    """Rz(theta) Rx(-(pi/2 - e)) Rz(-a) written out element by element."""

    def rz(x):
        return np.array([[math.cos(x), -math.sin(x), 0], [math.sin(x), math.cos(x), 0], [0, 0, 1]])

    def rx(x):
        return np.array([[1, 0, 0], [0, math.cos(x), -math.sin(x)], [0, math.sin(x), math.cos(x)]])

    return rz(t) @ rx(-(math.pi / 2 - e)) @ rz(-a)


def ref_error_logm(p, g):
    """|| logm(R_pred^T R_gt) ||_F / sqrt(2), as in NeMo's pose_error."""
    m = ref_rotation(*p).T @ ref_rotation(*g)
    return float(np.linalg.norm(np.real(scipy.linalg.logm(m))) / math.sqrt(2))


def _random_poses(rng, m):
    return np.stack([rng.uniform(-math.pi, math.pi, m), rng.uniform(-math.pi / 2, math.pi / 2, m),
                     rng.uniform(-math.pi, math.pi, m)], axis=1)


def test_rotation_is_nemo_convention():
    rng = np.random.default_rng(0)
    for p in _random_poses(rng, 50):
        assert_close(nemo_rotation(*p), ref_rotation(*p), atol=1e-12)


def test_errors_match_logm_and_rotation_magnitude():
    rng = np.random.default_rng(1)
    pred, gt = _random_poses(rng, 300), _random_poses(rng, 300)
    # half of the cases close to the ground truth (small errors are where arccos is inaccurate)
    pred[::2] = gt[::2] + rng.normal(0, 0.05, (150, 3))
    err = pose_errors(pred, gt)
    mag = [Rotation.from_matrix(ref_rotation(*p).T @ ref_rotation(*g)).magnitude()
           for p, g in zip(pred, gt, strict=True)]
    assert_close(err, mag, atol=1e-6)
    away = np.array(mag) < math.pi - 1e-2  # logm is ill-conditioned at pi
    assert away.sum() > 250
    assert_close(err[away], [ref_error_logm(p, g) for p, g in zip(pred[away], gt[away], strict=True)], atol=1e-6)


def test_known_offsets():
    g = (0.3, 0.2, -0.4)
    assert pose_error(g, g) == pytest.approx(0.0, abs=1e-12)
    # an azimuth or in-plane offset d rotates about a single axis: error |d|
    assert pose_error((0.3 + 0.25, 0.2, -0.4), g) == pytest.approx(0.25, abs=1e-12)
    assert pose_error((0.3, 0.2, -0.4 - 0.7), g) == pytest.approx(0.7, abs=1e-12)
    assert rotation_geodesic(np.eye(3), np.diag([1.0, -1.0, -1.0])) == pytest.approx(math.pi)


def test_nan_prediction_counts_as_pi_and_nan_gt_raises():
    assert pose_error((math.nan, 0.0, 0.0), (0.1, 0.2, 0.3)) == math.pi
    assert pose_error((0.0, math.inf, 0.0), (0.1, 0.2, 0.3)) == math.pi
    with pytest.raises(ValueError):
        pose_error((0.0, 0.0, 0.0), (math.nan, 0.0, 0.0))


def test_summary_thresholds_are_strict_and_median_in_degrees():
    e = np.array([0.0, math.pi / 18, math.pi / 6 - 1e-9, math.pi / 6, math.pi])
    s = summarize_pose_errors(e)
    assert s.acc_pi_18 == pytest.approx(1 / 5)
    assert s.acc_pi_6 == pytest.approx(3 / 5)
    assert s.median_deg == pytest.approx(30.0 - 1e-9 * 180 / math.pi)
    assert math.isnan(summarize_pose_errors(np.zeros(0)).acc_pi_6)
    acc6, _, med = pose_tables({"a": np.array([0.0, 1.0]), "b": np.array([0.0])})
    assert acc6.per_category == {"a": 0.5, "b": 1.0} and acc6.overall == pytest.approx(0.75)
    assert not med.higher_is_better
