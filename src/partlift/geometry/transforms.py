"""Rotations and the pose conventions of the papers' code (docs/CONVENTIONS.md).

World frame of partlift: right-handed, **+Y up, +Z = the object's front, +X = the object's left**.

The NeMo / PASCAL3D+ pose (azimuth a, elevation e, in-plane theta), radians, gives

    R_nemo(a, e, theta) = Rz(theta) @ Rx(-(pi/2 - e)) @ Rz(-a)

which maps PASCAL3D+ world coordinates (z up, object front towards -y) to PASCAL3D+ camera
coordinates (OpenGL style: x right, y up, looking down -z). partlift's world-to-camera rotation
(OpenCV camera: x right, y down, z forward) for the same pose is

    R = CV_FROM_GL @ R_nemo(a, e, theta) @ PASCAL_FROM_WORLD

and the camera centre is d * (cos e sin a, sin e, cos e cos a) in the partlift world, exactly the
position of PartSLIP's ``look_at_view_transform(d, e, a)`` with up +Y.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

# partlift world (Y up, front +Z) -> PASCAL3D+ world (Z up, front -Y): (x, y, z) -> (x, -z, y).
PASCAL_FROM_WORLD = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
# OpenGL camera (x right, y up, z backward) -> OpenCV camera (x right, y down, z forward).
CV_FROM_GL = np.diag([1.0, -1.0, -1.0])


def rot_x(angle: float) -> np.ndarray:
    """(3, 3) rotation by ``angle`` radians about +X (right-handed)."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def rot_y(angle: float) -> np.ndarray:
    """(3, 3) rotation by ``angle`` radians about +Y (right-handed)."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def rot_z(angle: float) -> np.ndarray:
    """(3, 3) rotation by ``angle`` radians about +Z (right-handed)."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def nemo_rotation(azimuth: float, elevation: float, theta: float) -> np.ndarray:
    """NeMo / PASCAL3D+ rotation ``Rz(theta) Rx(-(pi/2 - e)) Rz(-a)`` (radians), as in its pose metric."""
    return rot_z(theta) @ rot_x(-(np.pi / 2 - elevation)) @ rot_z(-azimuth)


def world_to_camera_rotation(azimuth: float, elevation: float, theta: float) -> np.ndarray:
    """(3, 3) partlift world -> OpenCV camera rotation for a NeMo pose (radians)."""
    return CV_FROM_GL @ nemo_rotation(azimuth, elevation, theta) @ PASCAL_FROM_WORLD


def pose_from_world_to_camera_rotation(rotation: np.ndarray) -> tuple[float, float, float]:
    """Invert :func:`world_to_camera_rotation`: return (azimuth, elevation, theta) in radians.

    azimuth and theta are wrapped to (-pi, pi], elevation lies in [-pi/2, pi/2]. At the poles
    (elevation = +-pi/2) azimuth and theta are not separable; azimuth is then set to 0.
    """
    r = CV_FROM_GL @ np.asarray(rotation, dtype=np.float64) @ PASCAL_FROM_WORLD.T
    # r = Rz(theta) Rx(phi) Rz(psi) with phi = e - pi/2 in [-pi, 0], psi = -a.
    c_phi = float(np.clip(r[2, 2], -1.0, 1.0))
    s_phi = -np.sqrt(max(0.0, 1.0 - c_phi * c_phi))
    phi = np.arctan2(s_phi, c_phi)
    if abs(s_phi) > 1e-9:
        psi = np.arctan2(r[2, 0] / s_phi, r[2, 1] / s_phi)
        theta = np.arctan2(r[0, 2] / s_phi, -r[1, 2] / s_phi)
    else:  # gimbal lock: r = Rz(theta + cos(phi) * psi) up to the x-flip; fold everything into theta
        psi = 0.0
        theta = np.arctan2(r[1, 0], r[0, 0])
    return wrap_angle(-psi), float(phi + np.pi / 2), wrap_angle(theta)


def wrap_angle(angle: float) -> float:
    """Wrap an angle in radians to (-pi, pi]."""
    y = float((angle + np.pi) % (2 * np.pi) - np.pi)
    return float(np.pi) if y <= -np.pi + 1e-15 else y


def look_at_rotation(
    eye: ArrayLike, target: ArrayLike = (0.0, 0.0, 0.0), up: ArrayLike = (0.0, 1.0, 0.0)
) -> np.ndarray:
    """(3, 3) world -> OpenCV camera rotation of a camera at ``eye`` looking at ``target``.

    Camera +Z points at the target, +X to the viewer's right, +Y down (image rows), and the world
    ``up`` projects upwards in the image.
    """
    eye = np.asarray(eye, dtype=np.float64)
    forward = np.asarray(target, dtype=np.float64) - eye
    norm = np.linalg.norm(forward)
    if norm == 0:
        raise ValueError("look_at: eye and target coincide")
    forward /= norm
    right = np.cross(forward, np.asarray(up, dtype=np.float64))
    if np.linalg.norm(right) < 1e-12:
        raise ValueError("look_at: viewing direction is parallel to the up vector")
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    return np.stack([right, down, forward])


def spherical_eye(elevation: float, azimuth: float, distance: float) -> np.ndarray:
    """Camera centre d * (cos e sin a, sin e, cos e cos a) (radians), PartSLIP's look-at position."""
    return distance * np.array(
        [np.cos(elevation) * np.sin(azimuth), np.sin(elevation), np.cos(elevation) * np.cos(azimuth)]
    )


def geodesic_angle(r1: np.ndarray, r2: np.ndarray) -> float:
    """Angle in radians of the relative rotation r1^T r2 (0..pi)."""
    c = (np.trace(np.asarray(r1).T @ np.asarray(r2)) - 1.0) / 2.0
    return float(np.arccos(np.clip(c, -1.0, 1.0)))


def rigid_matrix(rotation: np.ndarray, translation: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """(4, 4) homogeneous matrix of x -> scale * rotation @ x + translation."""
    m = np.eye(4)
    m[:3, :3] = scale * np.asarray(rotation, dtype=np.float64)
    m[:3, 3] = translation
    return m
