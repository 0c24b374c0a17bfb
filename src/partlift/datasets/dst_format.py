"""3D-DST / DSPart annotation dicts -> partlift cameras and poses (fields: docs/REFERENCES.md).

3D-DST renders with Blender (z up). Each image has a pickled dict (``np.load(p, allow_pickle=True)
.item()``) with ``theta`` (Blender azimuth), ``phi`` (polar angle from +z), ``dist``,
``camera_rotation`` (roll, always 0), ``principal`` ([256, 256]), ``matrix_world`` (camera to
world, Blender camera: x right, y up, looking down -z), ``modelview_matrix`` (its inverse),
``rendering_scale`` / ``rendering_offset`` (Blender-frame normalisation: ``normalised = scale * x +
offset``), ``focal_length`` and ``sensor_width`` (mm), ...

Frames. Blender's OBJ / glTF importers turn the file's Y-up coordinates into Blender's Z-up ones by
``(x, y, z)_file -> (x, -z, y)_blender`` (the same map as ``transforms.PASCAL_FROM_WORLD``), so a
mesh file in partlift's frame (+Y up, +Z front) faces Blender's -Y. The camera centre
``dist (sin phi cos t, sin phi sin t, cos phi)`` then equals PASCAL3D+'s
``d (cos e sin a, -cos e cos a, sin e)`` for ``e = pi/2 - phi`` and **``a = t + pi/2``** (3D-DST's
own loader uses ``a = t`` and stays self-consistent only). The cameras returned here map
coordinates of the *mesh file* (normalised as rendered) to pixels; a model whose file faces another
direction than +Z needs ``azimuth_offset`` (e.g. pi for a model facing -Z), applied as a rotation
of the object about +Y. ``matrix_world`` is preferred over re-deriving the pose from theta / phi.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from partlift.errors import ReadError
from partlift.geometry.safe_load import load_npy_dict
from partlift.geometry.transforms import CV_FROM_GL, PASCAL_FROM_WORLD, rot_y
from partlift.render.camera import Camera

# mesh-file / partlift frame (Y up) -> Blender world (Z up), as Blender's importers do.
BLENDER_FROM_FILE = PASCAL_FROM_WORLD


def load_dst_annotation(path: str | os.PathLike) -> dict:
    """Read one 3D-DST annotation ``.npy`` (a pickled dict of arrays, numbers and strings).

    Raises ReadError naming the file if it is missing, damaged, or holds anything but plain values.
    """
    # restricted unpickling: only arrays, numbers, strings, lists and dicts (nothing runs on load)
    return load_npy_dict(Path(path), what="3D-DST annotation")


def blender_matrix_world(theta: float, phi: float, dist: float, roll: float = 0.0) -> np.ndarray:
    """(4, 4) camera-to-world matrix of 3D-DST's Blender camera (TRACK_TO origin, -Z track, Y up).

    The camera sits at ``dist (sin phi cos theta, sin phi sin theta, cos phi)``; its local axes
    (x right, y up, z backwards) have the local y as close as possible to Blender's +z; ``roll``
    turns the camera about its viewing direction as 3D-DST's (unused) roll code does.
    """
    c = dist * np.array([np.sin(phi) * np.cos(theta), np.sin(phi) * np.sin(theta), np.cos(phi)])
    back = c / np.linalg.norm(c)
    right = np.cross([0.0, 0.0, 1.0], back)
    if np.linalg.norm(right) < 1e-12:  # straight above / below: Blender keeps +y as the up side
        right = np.array([1.0, 0.0, 0.0])
    right /= np.linalg.norm(right)
    up = np.cross(back, right)
    r = np.stack([right, up, back], axis=1)
    if roll:
        forward = -back
        k = np.array([[0, -forward[2], forward[1]], [forward[2], 0, -forward[0]], [-forward[1], forward[0], 0]])
        rot = np.eye(3) + np.sin(roll) * k + (1 - np.cos(roll)) * (k @ k)  # Rodrigues about the view axis
        r = rot @ r
    m = np.eye(4)
    m[:3, :3], m[:3, 3] = r, c
    return m


def dst_focal_pixels(annotation: dict, width: int) -> float:
    """Focal length in pixels: ``focal_length / sensor_width * width`` (35 / 32 * 512 = 560)."""
    lens = float(annotation.get("focal_length", 35.0))
    sensor = float(annotation.get("sensor_width", 32.0))
    return lens / sensor * float(width)


def dst_camera(
    annotation: dict,
    width: int | None = None,
    height: int | None = None,
    use_matrix_world: bool = True,
    azimuth_offset: float = 0.0,
) -> Camera:
    """partlift :class:`Camera` of a 3D-DST annotation (conventions in the module docstring).

    Args:
        annotation: the annotation dict.
        width, height: image size; default twice the principal point (512 x 512 for 3D-DST).
        use_matrix_world: build the extrinsics from ``matrix_world`` (preferred); else from
            ``theta``, ``phi``, ``dist`` and ``camera_rotation``.
        azimuth_offset: rotation (radians) of the object about +Y added to the model's frame.

    Returns:
        a camera mapping mesh-file coordinates (normalised as rendered) to pixels.
    """
    principal = np.asarray(annotation.get("principal", (256, 256)), dtype=np.float64).reshape(2)
    w = int(width) if width is not None else int(round(2 * principal[0]))
    h = int(height) if height is not None else int(round(2 * principal[1]))
    if use_matrix_world and "matrix_world" in annotation:
        m = np.asarray(annotation["matrix_world"], dtype=np.float64)
    elif use_matrix_world and "modelview_matrix" in annotation:
        m = np.linalg.inv(np.asarray(annotation["modelview_matrix"], dtype=np.float64))
    else:
        for key in ("theta", "phi", "dist"):
            if key not in annotation:
                raise ReadError(f"3D-DST annotation lacks {key!r} (and has no matrix_world)")
        m = blender_matrix_world(
            float(annotation["theta"]), float(annotation["phi"]), float(annotation["dist"]),
            float(annotation.get("camera_rotation", 0.0)),
        )
    r_c2w, centre = m[:3, :3], m[:3, 3]
    r_gl = r_c2w.T  # Blender world -> Blender (OpenGL-style) camera
    rotation = CV_FROM_GL @ r_gl @ BLENDER_FROM_FILE @ rot_y(-azimuth_offset)
    translation = CV_FROM_GL @ (-r_gl @ centre)
    f = dst_focal_pixels(annotation, w)
    # 3D-DST's principal point is the image centre in pixel units
    return Camera(rotation, translation, f, f, float(principal[0]), float(principal[1]), w, h)


def dst_pose(annotation: dict, azimuth_offset: float = 0.0) -> tuple[float, float, float, float]:
    """(azimuth, elevation, theta, distance) in partlift's NeMo convention (radians).

    From ``theta`` / ``phi`` / ``dist``: ``a = theta + pi/2 + azimuth_offset``, ``e = pi/2 - phi``,
    in-plane ``camera_rotation`` (0 in 3D-DST). Use :func:`dst_camera` (``matrix_world``) when the
    exact camera matters.
    """
    from partlift.geometry.transforms import wrap_angle

    a = wrap_angle(float(annotation["theta"]) + np.pi / 2 + azimuth_offset)
    e = np.pi / 2 - float(annotation["phi"])
    return a, float(e), float(annotation.get("camera_rotation", 0.0)), float(annotation["dist"])


def dst_normalization(annotation: dict) -> tuple[float, np.ndarray]:
    """(scale, offset) of 3D-DST's normalisation in the *mesh-file* frame: ``normalised = scale * x + offset``.

    3D-DST stores the offset in Blender coordinates; it is mapped back through the importer's axes.
    """
    scale = float(annotation.get("rendering_scale", 1.0))
    off = np.asarray(annotation.get("rendering_offset", np.zeros(3)), dtype=np.float64).reshape(3)
    return scale, BLENDER_FROM_FILE.T @ off
