"""3D-DST viewpoint sampling: our presets against a re-implementation of 3D-DST's Blender procedure."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from helpers import assert_close
from partlift.datasets.poses import PoseSampling, dst_focal, sample_view, truncated_normal
from partlift.render.camera import Camera

# 3D-DST's presets in Blender terms: (theta range, phi mean, phi sd, phi range); None = uniform phi
DST_PRESETS = {
    1: ((0, 360), 90, 30, (0, 180)),
    2: ((-195, 15), 90, 30, (0, 180)),
    3: ((0, 360), 60, 20, (0, 195)),
    4: ((-195, 15), 60, 20, (0, 195)),
    5: ((0, 360), None, None, (0, 180)),
}


def _dst_camera_centres(preset: int, n: int, seed: int) -> np.ndarray:
    """Blender-side sampling as 3D-DST's script does it, returned as unit camera centres in the
    mesh-file (partlift) frame, i.e. through the importer's axis swap (x, y, z)_blender = (x, -z, y)."""
    rng = np.random.default_rng(seed)
    (t0, t1), mean, sd, (p0, p1) = DST_PRESETS[preset]
    theta = rng.uniform(t0, t1, n)
    if mean is None:
        phi = rng.uniform(p0, p1, n)
    else:
        phi = stats.truncnorm.rvs((p0 - mean) / sd, (p1 - mean) / sd, loc=mean, scale=sd, size=n, random_state=rng)
    phi = phi % 360.0
    over = phi > 180
    theta = np.where(over, theta + 180, theta) % 360
    phi = np.where(over, 360 - phi, phi)
    t, p = np.radians(theta), np.radians(phi)
    b = np.stack([np.sin(p) * np.cos(t), np.sin(p) * np.sin(t), np.cos(p)], 1)
    return np.stack([b[:, 0], b[:, 2], -b[:, 1]], 1)


@pytest.mark.parametrize("preset", [1, 2, 3, 4, 5])
def test_presets_reproduce_dst_viewpoint_distribution(preset):
    n = 3000
    ref = _dst_camera_centres(preset, n, seed=preset)
    rng = np.random.default_rng(100 + preset)
    sampling = PoseSampling.dst_preset(preset)
    ours = []
    for _ in range(n):
        v = sample_view(rng, sampling)
        cam = Camera.from_pose(azimuth=v.azimuth, elevation=v.elevation, theta=v.theta, distance=v.distance,
                               focal=100.0, width=64, height=64)
        ours.append(cam.center / np.linalg.norm(cam.center))
    ours = np.array(ours)
    for k, axis in enumerate("xyz"):
        p = stats.ks_2samp(ours[:, k], ref[:, k]).pvalue
        assert p > 1e-3, f"preset {preset}: camera-centre {axis} distributions differ (KS p={p:.2g})"


def test_front_presets_centre_on_the_front():
    rng = np.random.default_rng(0)
    az = np.array([sample_view(rng, PoseSampling.dst_preset(2)).azimuth for _ in range(2000)])
    assert np.degrees(np.abs(az)).max() <= 105.0 + 1e-9
    assert abs(np.degrees(az).mean()) < 5.0


def test_truncated_normal_matches_scipy():
    rng = np.random.default_rng(0)
    x = np.array([truncated_normal(rng, 2.0, 0.5, 1.5, 3.5) for _ in range(4000)])
    assert x.min() >= 1.5 and x.max() <= 3.5
    ref = stats.truncnorm((1.5 - 2.0) / 0.5, (3.5 - 2.0) / 0.5, loc=2.0, scale=0.5)
    assert stats.kstest(x, ref.cdf).pvalue > 1e-3
    assert truncated_normal(rng, 5.0, 0.0, 0.0, 1.0) == 1.0


def test_default_sampling_and_roll():
    rng = np.random.default_rng(3)
    views = [sample_view(rng, PoseSampling()) for _ in range(500)]
    assert all(v.theta == 0.0 for v in views), "3D-DST never rolls the camera"
    d = np.array([v.distance for v in views])
    s = PoseSampling()
    assert d.min() >= s.distance_mean + s.distance_range[0] and d.max() <= s.distance_mean + s.distance_range[1]
    rolled = PoseSampling(theta_std_deg=5.0, theta_max_deg=10.0)
    th = np.degrees([sample_view(rng, rolled).theta for _ in range(500)])
    assert np.abs(th).max() <= 10.0 and th.std() > 2.0
    e = np.degrees([v.elevation for v in views])
    assert e.min() >= -90 and e.max() <= 90


def test_dst_focal():
    assert_close(dst_focal(512), 560.0, atol=1e-12)
    assert_close(dst_focal(128), 140.0, atol=1e-12)
