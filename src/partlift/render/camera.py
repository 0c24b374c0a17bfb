"""Pinhole cameras (docs/CONVENTIONS.md, "Cameras").

Camera frame: OpenCV, x right, y down (image rows), z forward (depth > 0 in front).
Pixels: continuous coordinates (u, v) = (column, row) with (0, 0) the top-left corner of the
top-left pixel, so pixel (row i, column j) has its centre at (j + 0.5, i + 0.5).
Projection: u = fx * x / z + cx, v = fy * y / z + cy, with x_cam = R @ x_world + t.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from partlift.geometry.transforms import (
    look_at_rotation,
    pose_from_world_to_camera_rotation,
    spherical_eye,
    world_to_camera_rotation,
)

# PartSLIP's 10 fixed views, (elevation, azimuth) in degrees (its src/render_pc.py).
PARTSLIP_VIEWS: tuple[tuple[float, float], ...] = (
    (10, 0), (10, 90), (10, 180), (10, 270),
    (40, 0), (40, 120), (40, 240),
    (-20, 60), (-20, 180), (-20, 300),
)


@dataclass(frozen=True)
class Camera:
    """A pinhole camera with world-to-camera extrinsics.

    Attributes:
        rotation: (3, 3) float64 world -> camera rotation (OpenCV camera frame).
        translation: (3,) float64, ``x_cam = rotation @ x_world + translation``.
        fx, fy: focal lengths in pixels.
        cx, cy: principal point in pixels (image centre = (width / 2, height / 2)).
        width, height: image size in pixels.
        znear: near clipping depth; geometry closer than this is not drawn.
        zfar: far clipping depth.
    """

    rotation: np.ndarray
    translation: np.ndarray
    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int
    znear: float = 0.01
    zfar: float = 100.0
    meta: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        r = np.asarray(self.rotation, dtype=np.float64)
        t = np.asarray(self.translation, dtype=np.float64).reshape(3)
        if r.shape != (3, 3) or not np.isfinite(r).all() or not np.isfinite(t).all():
            raise ValueError("camera rotation must be a finite (3, 3) matrix and translation a finite (3,)")
        if not np.allclose(r @ r.T, np.eye(3), atol=1e-5) or np.linalg.det(r) < 0:
            raise ValueError("camera rotation must be a proper rotation matrix (orthonormal, det +1)")
        if not np.isfinite([self.fx, self.fy, self.cx, self.cy]).all():
            raise ValueError(f"camera intrinsics must be finite, got fx={self.fx} fy={self.fy} "
                             f"cx={self.cx} cy={self.cy}")
        if self.width <= 0 or self.height <= 0 or self.fx <= 0 or self.fy <= 0:
            raise ValueError(f"invalid camera size {self.width}x{self.height} or focal ({self.fx}, {self.fy})")
        object.__setattr__(self, "rotation", r)
        object.__setattr__(self, "translation", t)

    # ------------------------------------------------------------------ constructors
    # Both constructors take keyword-only angles in one order (azimuth, elevation[, theta],
    # distance) and in radians unless ``degrees=True``: positional angles were easy to swap.
    @staticmethod
    def from_pose(
        *,
        azimuth: float,
        elevation: float,
        theta: float = 0.0,
        distance: float,
        focal: float,
        width: int,
        height: int,
        principal: Sequence[float] | None = None,
        degrees: bool = False,
    ) -> Camera:
        """Object-centred camera from a NeMo / PASCAL3D+ pose (docs/CONVENTIONS.md).

        The object sits at the world origin; the camera centre is
        ``distance * (cos e sin a, sin e, cos e cos a)`` and
        ``R = CV_FROM_GL @ Rz(theta) Rx(-(pi/2 - e)) Rz(-a) @ PASCAL_FROM_WORLD``.

        Args:
            azimuth, elevation, theta: pose angles, radians (degrees if ``degrees``).
            distance: camera-to-origin distance (world units).
            focal: focal length in pixels (fx = fy).
            width, height: image size in pixels.
            principal: (cx, cy) in pixels, default the image centre.
            degrees: the angles are in degrees.
        """
        if degrees:
            azimuth, elevation, theta = np.radians([azimuth, elevation, theta])
        r = world_to_camera_rotation(azimuth, elevation, theta)
        t = np.array([0.0, 0.0, float(distance)])
        cx, cy = (width / 2.0, height / 2.0) if principal is None else principal
        return Camera(r, t, float(focal), float(focal), float(cx), float(cy), int(width), int(height))

    @staticmethod
    def look_at(
        *,
        azimuth: float,
        elevation: float,
        distance: float,
        fov: float = 60.0,
        width: int = 800,
        height: int = 800,
        target: Sequence[float] = (0.0, 0.0, 0.0),
        up: Sequence[float] = (0.0, 1.0, 0.0),
        degrees: bool = False,
    ) -> Camera:
        """PartSLIP-style look-at camera (PyTorch3D ``look_at_view_transform`` geometry).

        The camera sits at ``target + distance * (cos e sin a, sin e, cos e cos a)`` looking at
        ``target`` with ``up`` pointing up in the image; at ``target`` = origin and theta = 0 it
        is the camera of :meth:`from_pose`. PartSLIP uses 60 deg FoV, distance 2.2, 800x800.

        Args:
            azimuth, elevation: viewing angles, radians (degrees if ``degrees``).
            distance: camera-to-target distance (world units).
            fov: full vertical field of view, always in degrees (``degrees`` does not apply).
            width, height: image size in pixels.
            target, up: (3,) world point looked at and world up direction.
            degrees: ``azimuth`` and ``elevation`` are in degrees (as :data:`PARTSLIP_VIEWS`).
        """
        if degrees:
            azimuth, elevation = np.radians([azimuth, elevation])
        eye = np.asarray(target, dtype=np.float64) + spherical_eye(elevation, azimuth, distance)
        r = look_at_rotation(eye, target, up)
        f = (height / 2.0) / np.tan(np.radians(fov) / 2.0)
        return Camera(r, -r @ eye, f, f, width / 2.0, height / 2.0, int(width), int(height))

    # ------------------------------------------------------------------ queries
    @property
    def K(self) -> np.ndarray:  # noqa: N802 - the standard name of the intrinsic matrix
        """(3, 3) float64 intrinsic matrix."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    @property
    def center(self) -> np.ndarray:
        """(3,) float64 camera centre in world coordinates."""
        return -self.rotation.T @ self.translation

    def world_to_camera(self) -> np.ndarray:
        """(4, 4) float64 world -> camera matrix."""
        m = np.eye(4)
        m[:3, :3], m[:3, 3] = self.rotation, self.translation
        return m

    def pose(self) -> tuple[float, float, float, float]:
        """(azimuth, elevation, theta, distance) in radians of an object-centred camera.

        Exact for cameras built by :meth:`from_pose` or :meth:`look_at` at the origin; for other
        cameras the angles describe the rotation and ``distance`` is ``|t|``.
        """
        a, e, th = pose_from_world_to_camera_rotation(self.rotation)
        return a, e, th, float(np.linalg.norm(self.translation))

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """(N, 3) world points -> (N, 3) float64 camera coordinates."""
        return np.asarray(points, dtype=np.float64) @ self.rotation.T + self.translation

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Project (N, 3) world points. Returns (N, 2) float64 pixel (u, v) and (N,) depth z."""
        pc = self.to_camera(points)
        z = pc[:, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            u = self.fx * pc[:, 0] / z + self.cx
            v = self.fy * pc[:, 1] / z + self.cy
        return np.stack([u, v], axis=1), z

    def resized(self, width: int, height: int) -> Camera:
        """The same camera for an image resampled to ``width`` x ``height``."""
        sx, sy = width / self.width, height / self.height
        return Camera(
            self.rotation, self.translation, self.fx * sx, self.fy * sy, self.cx * sx, self.cy * sy,
            int(width), int(height), self.znear, self.zfar, dict(self.meta),
        )

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict:
        d = asdict(self)
        d["rotation"] = self.rotation.tolist()
        d["translation"] = self.translation.tolist()
        d["world_to_camera"] = self.world_to_camera().tolist()
        d["K"] = self.K.tolist()
        a, e, th, dist = self.pose()
        d["pose"] = {"azimuth": a, "elevation": e, "theta": th, "distance": dist, "units": "radians"}
        d["convention"] = "opencv camera (x right, y down, z forward); x_cam = R x_world + t; see docs/CONVENTIONS.md"
        return d

    @staticmethod
    def from_dict(d: dict) -> Camera:
        keys = ("rotation", "translation", "fx", "fy", "cx", "cy", "width", "height", "znear", "zfar", "meta")
        return Camera(**{k: d[k] for k in keys if k in d})

    def save_json(self, path: str | os.PathLike) -> None:
        with open(path, "w") as fh:
            json.dump(self.to_dict(), fh, indent=2)

    @staticmethod
    def load_json(path: str | os.PathLike) -> Camera:
        """Read a camera JSON (:meth:`to_dict`, or a dict holding it under ``"camera"``, as in an
        annotation). Raises ReadError naming the file when it is unreadable, not a camera, or the
        camera is invalid (non-finite, non-positive focal or size, rotation not orthonormal)."""
        from partlift.errors import ReadError

        try:
            with open(path, encoding="utf-8") as fh:
                d = json.load(fh)
        except (OSError, ValueError) as exc:
            raise ReadError(f"cannot read camera {path}: {exc}") from None
        if isinstance(d, dict) and isinstance(d.get("camera"), dict):
            d = d["camera"]
        if not isinstance(d, dict):
            raise ReadError(f"camera {path}: expected a JSON object, got {type(d).__name__}")
        missing = [k for k in ("rotation", "translation", "fx", "fy", "cx", "cy", "width", "height") if k not in d]
        if missing:
            raise ReadError(f"camera {path} lacks {', '.join(missing)} (write it with partlift's Camera.to_dict)")
        try:
            return Camera.from_dict(d)
        except (TypeError, ValueError) as exc:
            raise ReadError(f"camera {path}: {exc}") from None


def partslip_cameras(size: int = 800, distance: float = 2.2, fov: float = 60.0) -> list[Camera]:
    """PartSLIP's 10 fixed look-at views (elevation, azimuth in :data:`PARTSLIP_VIEWS`)."""
    return [Camera.look_at(azimuth=a, elevation=e, distance=distance, fov=fov, width=size, height=size, degrees=True)
            for e, a in PARTSLIP_VIEWS]


def stack_cameras(cameras: Sequence[Camera]) -> dict[str, np.ndarray]:
    """Batch cameras into arrays: R (B,3,3), t (B,3), intr (B,4)=[fx,fy,cx,cy], near (B,), far (B,).

    All cameras of a batch must share one image size, returned as ``size`` = (height, width).
    """
    if not cameras:
        raise ValueError("need at least one camera")
    sizes = {(c.height, c.width) for c in cameras}
    if len(sizes) != 1:
        raise ValueError(f"cameras of one batch must share an image size, got {sorted(sizes)}")
    return {
        "R": np.stack([c.rotation for c in cameras]),
        "t": np.stack([c.translation for c in cameras]),
        "intr": np.array([[c.fx, c.fy, c.cx, c.cy] for c in cameras], dtype=np.float64),
        "near": np.array([c.znear for c in cameras]),
        "far": np.array([c.zfar for c in cameras]),
        "size": np.array(sizes.pop()),
    }
