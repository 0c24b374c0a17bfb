"""Object pose error of the NeMo / PASCAL3D+ line of work (used by Part321).

A pose is (azimuth a, elevation e, in-plane theta) in radians; its rotation is NeMo's

    R(a, e, theta) = Rz(theta) @ Rx(-(pi/2 - e)) @ Rz(-a)        (geometry.transforms.nemo_rotation)

and the error of a prediction is the geodesic angle between the two rotations,

    err = || logm(R_pred^T R_gt) ||_F / sqrt(2) = arccos((tr(R_pred^T R_gt) - 1) / 2)   in [0, pi],

computed here as atan2(|axis part|, cos part), which is accurate near 0 and pi. A prediction with a
NaN/Inf angle counts as error pi (the newer NeMo code; the original used pi/2). Summaries:
Acc@pi/6 = mean(err < pi/6), Acc@pi/18 = mean(err < pi/18) (strict), median error in degrees.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from partlift.geometry.transforms import nemo_rotation
from partlift.metrics.tables import MetricTable


def rotation_geodesic(r1: np.ndarray, r2: np.ndarray) -> float:
    """Angle in radians (0..pi) of the rotation r1^T r2, accurate over the whole range."""
    r = np.asarray(r1, dtype=np.float64).T @ np.asarray(r2, dtype=np.float64)
    c = (np.trace(r) - 1.0) / 2.0
    s = 0.5 * np.linalg.norm([r[2, 1] - r[1, 2], r[0, 2] - r[2, 0], r[1, 0] - r[0, 1]])
    return float(math.atan2(s, c))


def pose_error(pred: ArrayLike, gt: ArrayLike) -> float:
    """Geodesic rotation error (radians) between two (azimuth, elevation, theta) poses.

    A non-finite predicted angle gives pi; a non-finite ground truth raises ValueError.
    """
    p = np.asarray(pred, dtype=np.float64).reshape(3)
    g = np.asarray(gt, dtype=np.float64).reshape(3)
    if not np.all(np.isfinite(g)):
        raise ValueError(f"ground-truth pose {g.tolist()} is not finite")
    if not np.all(np.isfinite(p)):
        return math.pi
    return rotation_geodesic(nemo_rotation(*p), nemo_rotation(*g))


def pose_errors(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """(M,) float64 errors (radians) for (M, 3) predicted and ground-truth poses."""
    p = np.asarray(pred, dtype=np.float64).reshape(-1, 3)
    g = np.asarray(gt, dtype=np.float64).reshape(-1, 3)
    if len(p) != len(g):
        raise ValueError(f"{len(p)} predicted poses but {len(g)} ground-truth poses")
    return np.array([pose_error(a, b) for a, b in zip(p, g, strict=True)], dtype=np.float64)


@dataclass(frozen=True)
class PoseSummary:
    """acc_pi_6, acc_pi_18: fractions in [0, 1]; median_deg: degrees; count: number of poses."""

    acc_pi_6: float
    acc_pi_18: float
    median_deg: float
    count: int


def summarize_pose_errors(errors: np.ndarray) -> PoseSummary:
    """Acc@pi/6, Acc@pi/18 and the median error in degrees of (M,) errors in radians (NaN if M = 0)."""
    e = np.asarray(errors, dtype=np.float64).reshape(-1)
    if len(e) == 0:
        return PoseSummary(math.nan, math.nan, math.nan, 0)
    return PoseSummary(
        float(np.mean(e < math.pi / 6)), float(np.mean(e < math.pi / 18)), float(np.degrees(np.median(e))), len(e)
    )


def pose_tables(errors: Mapping[str, np.ndarray]) -> tuple[MetricTable, MetricTable, MetricTable]:
    """Per-category pose tables (``pose_acc_pi_6``, ``pose_acc_pi_18``, ``pose_median_deg``) from
    category -> (M,) errors; overall = mean over categories, as Part321's 50-category means."""
    sums = {c: summarize_pose_errors(e) for c, e in errors.items()}
    return (
        MetricTable.from_categories("pose_acc_pi_6", {c: s.acc_pi_6 for c, s in sums.items()}),
        MetricTable.from_categories("pose_acc_pi_18", {c: s.acc_pi_18 for c, s in sums.items()}),
        MetricTable.from_categories("pose_median_deg", {c: s.median_deg for c, s in sums.items()}, False),
    )
