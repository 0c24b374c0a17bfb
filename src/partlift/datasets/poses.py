"""Viewpoint sampling as 3D-DST does it (``scripts/blender_render.py``), in partlift's pose convention.

3D-DST places the Blender camera at ``dist (sin phi cos t, sin phi sin t, cos phi)`` (z up) with
``t`` the Blender azimuth and ``phi`` the polar angle from +z, and draws ``phi`` from a truncated
normal. In partlift's NeMo convention (docs/CONVENTIONS.md) the same camera has

    elevation e = 90 deg - phi,      azimuth a = t + 90 deg     (theta = roll = 0)

so 3D-DST's presets become (degrees):

======  ===============  ======================  ============  ================================
preset  Blender t range  phi: mean, sd, range    azimuth a     elevation e
======  ===============  ======================  ============  ================================
1       [0, 360)         90, 30, [0, 180]        U[0, 360)     N(0, 30) truncated to [-90, 90]
2       [-195, 15]       90, 30, [0, 180]        U[-105, 105]  as preset 1
3       [0, 360)         60, 20, [0, 195]        U[0, 360)     N(30, 20) truncated to [-105, 90]
4       [-195, 15]       60, 20, [0, 195]        U[-105, 105]  as preset 3
5       [0, 360)         uniform [0, 180]        U[0, 360)     U[-90, 90]
======  ===============  ======================  ============  ================================

Elevations beyond -90 deg (preset 3/4's phi > 180) go over the pole, as in 3D-DST: e -> -180 - e
and a -> a + 180. 3D-DST never rolls the camera (theta = 0); ``theta_std_deg`` adds an optional
small in-plane rotation. The distance is a truncated normal around ``distance_mean`` on
``[mean + distance_range[0], mean + distance_range[1]]`` (3D-DST: sd 0.5 on [d - 0.5, d + 1.5]
about each model's CSV distance, objects normalised to a unit box, 512 px images, f = 560 px).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.special import ndtr, ndtri

from partlift.geometry.transforms import wrap_angle
from partlift.validation import bounded, validate_config


@dataclass(frozen=True)
class PoseSampling:
    """Distribution of the camera pose (angles in degrees, distance in unit-box units).

    Attributes:
        azimuth_range_deg: azimuth drawn uniformly from [lo, hi) (partlift azimuth: 0 = front).
        elevation_mean_deg: mean of the truncated normal elevation (None = uniform on the range).
        elevation_std_deg: standard deviation of the elevation.
        elevation_range_deg: truncation range of the elevation; values below -90 fold over the pole.
        theta_std_deg: standard deviation of the in-plane rotation (0 = never rolled, as 3D-DST).
        theta_max_deg: truncation of the in-plane rotation at +-this value.
        distance_mean: mean camera-to-object distance.
        distance_std: standard deviation of the distance (0 = fixed distance).
        distance_range: truncation offsets (lo, hi) added to ``distance_mean``.
    """

    azimuth_range_deg: tuple[float, float] = (0.0, 360.0)
    elevation_mean_deg: float | None = 30.0
    elevation_std_deg: float = bounded(20.0, ge=0)
    elevation_range_deg: tuple[float, float] = (-105.0, 90.0)
    theta_std_deg: float = bounded(0.0, ge=0)
    theta_max_deg: float = bounded(10.0, ge=0)
    distance_mean: float = bounded(2.0, gt=0)
    distance_std: float = bounded(0.3, ge=0)
    distance_range: tuple[float, float] = (-0.25, 0.75)

    def __post_init__(self) -> None:
        validate_config(self)

    @staticmethod
    def dst_preset(preset: int, distance: float = 2.0, **changes) -> PoseSampling:
        """3D-DST's pose-sampling preset 1-5 (table in the module docstring), at ``distance``.

        The distance jitter keeps 3D-DST's shape (sd 0.5 on [d - 0.5, d + 1.5]) unless overridden.
        """
        front = (-105.0, 105.0)
        full = (0.0, 360.0)
        table = {
            1: (full, 0.0, 30.0, (-90.0, 90.0)),
            2: (front, 0.0, 30.0, (-90.0, 90.0)),
            3: (full, 30.0, 20.0, (-105.0, 90.0)),
            4: (front, 30.0, 20.0, (-105.0, 90.0)),
            5: (full, None, 0.0, (-90.0, 90.0)),
        }
        if preset not in table:
            raise ValueError(f"3D-DST pose preset must be 1-5, got {preset}")
        az, mean, std, rng = table[preset]
        base = PoseSampling(az, mean, std, rng, 0.0, 10.0, float(distance), 0.5, (-0.5, 1.5))
        return replace(base, **changes)


@dataclass(frozen=True)
class ViewPose:
    """One sampled viewpoint (radians; distance in unit-box units)."""

    azimuth: float
    elevation: float
    theta: float
    distance: float


def truncated_normal(rng: np.random.Generator, mean: float, std: float, lo: float, hi: float) -> float:
    """One draw from N(mean, std) truncated to [lo, hi] by inverse-CDF sampling (std 0 -> clip(mean))."""
    if std <= 0:
        return float(np.clip(mean, lo, hi))
    a, b = ndtr((lo - mean) / std), ndtr((hi - mean) / std)
    u = a + (b - a) * rng.random()
    return float(np.clip(mean + std * ndtri(np.clip(u, 1e-15, 1 - 1e-15)), lo, hi))


def sample_view(rng: np.random.Generator, sampling: PoseSampling = PoseSampling()) -> ViewPose:
    """Draw one viewpoint from ``sampling``."""
    s = sampling
    az = np.radians(rng.uniform(*s.azimuth_range_deg))
    lo, hi = s.elevation_range_deg
    if s.elevation_mean_deg is None:
        el = rng.uniform(lo, hi)
    else:
        el = truncated_normal(rng, s.elevation_mean_deg, s.elevation_std_deg, lo, hi)
    if el < -90.0:  # over the pole (3D-DST's phi > 180): mirror the elevation, turn around
        el, az = -180.0 - el, az + np.pi
    elif el > 90.0:
        el, az = 180.0 - el, az + np.pi
    th = 0.0
    if s.theta_std_deg > 0:
        th = truncated_normal(rng, 0.0, s.theta_std_deg, -s.theta_max_deg, s.theta_max_deg)
    d_lo, d_hi = s.distance_mean + s.distance_range[0], s.distance_mean + s.distance_range[1]
    d = truncated_normal(rng, s.distance_mean, s.distance_std, d_lo, d_hi)
    return ViewPose(wrap_angle(az), float(np.radians(el)), float(np.radians(th)), float(d))


def dst_focal(size: int) -> float:
    """3D-DST's focal length scaled to ``size`` pixels: lens 35 mm / sensor 32 mm -> 560 px at 512 px."""
    return 35.0 / 32.0 * float(size)
