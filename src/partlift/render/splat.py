"""Point-cloud splatting (numba), PartSLIP's rendering setup (``src/render_pc.py``, docs/REFERENCES.md).

Each point is drawn as a screen-space disc of radius ``radius_px`` pixels around its projection: it
covers every pixel whose centre (j + 0.5, i + 0.5) is within ``radius_px`` of it (distance <= r).
Per pixel, the front-most covering point (smallest camera z; smaller index on ties) owns the pixel
and gives it its colour: one point per pixel, as PyTorch3D's point rasteriser with
``points_per_pixel=1`` and a normalised-weight compositor. A point is *visible* in a view iff it owns
at least one pixel, so front-surface points shadowed by neighbours at almost the same depth are not
visible (PartSLIP's behaviour). Points closer than ``camera.znear`` or farther than ``camera.zfar``
are not drawn.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np
from numba import njit, prange

from partlift.errors import InvalidGeometryError
from partlift.render.camera import Camera, stack_cameras
from partlift.render.numba_threads import start_numba_threads

# PartSLIP: point radius 0.005 in NDC units at 800 px (NDC spans 2 units over 800 px) -> 2 px.
PARTSLIP_RADIUS_PX = 2.0


@dataclass
class SplatResult:
    """Splatting output for ``B`` views of ``N`` points.

    Attributes:
        image: (B, H, W, 3) uint8 RGB, background colour where no point is drawn.
        point_index: (B, H, W) int64 index of the point owning the pixel, -1 = empty.
        screen_coords: (B, N, 2) float32 projection of every point (occluded ones too) in pixels,
            x = column, y = row, (0, 0) = top-left image corner; NaN for points at z <= 0.
        depth: (B, N) float32 camera-space z of every point.
        visible: (B, N) bool, True iff the point owns at least one pixel.
    """

    image: np.ndarray
    point_index: np.ndarray
    screen_coords: np.ndarray
    depth: np.ndarray
    visible: np.ndarray


@njit(cache=True)
def _splat_view(points, rot, trans, intr, znear, zfar, radius, zbuf, ibuf, coords, depth):
    h, w = zbuf.shape
    fx, fy, cx, cy = intr[0], intr[1], intr[2], intr[3]
    r2 = radius * radius
    zbuf[:, :] = np.inf
    ibuf[:, :] = -1
    for n in range(points.shape[0]):
        x, y, z = points[n, 0], points[n, 1], points[n, 2]
        xc = rot[0, 0] * x + rot[0, 1] * y + rot[0, 2] * z + trans[0]
        yc = rot[1, 0] * x + rot[1, 1] * y + rot[1, 2] * z + trans[1]
        zc = rot[2, 0] * x + rot[2, 1] * y + rot[2, 2] * z + trans[2]
        depth[n] = zc
        if zc <= 0.0:
            coords[n, 0] = np.nan
            coords[n, 1] = np.nan
            continue
        u = fx * xc / zc + cx
        v = fy * yc / zc + cy
        coords[n, 0] = u
        coords[n, 1] = v
        if zc < znear or zc > zfar:
            continue
        j0 = max(math.ceil(u - radius - 0.5), 0)
        j1 = min(math.floor(u + radius - 0.5), w - 1)
        i0 = max(math.ceil(v - radius - 0.5), 0)
        i1 = min(math.floor(v + radius - 0.5), h - 1)
        for i in range(i0, i1 + 1):
            dy = i + 0.5 - v
            for j in range(j0, j1 + 1):
                dx = j + 0.5 - u
                if dx * dx + dy * dy <= r2 and zc < zbuf[i, j]:
                    zbuf[i, j] = zc
                    ibuf[i, j] = n


@njit(cache=True, parallel=True)
def _splat_views(points, rots, trans, intr, near, far, radius, ibuf, coords, depth):
    nb, h, w = ibuf.shape
    for b in prange(nb):
        zbuf = np.empty((h, w))
        _splat_view(points, rots[b], trans[b], intr[b], near[b], far[b], radius, zbuf, ibuf[b], coords[b], depth[b])


def _as_colors(colors: np.ndarray | None, n: int) -> np.ndarray:
    if colors is None:
        return np.full((n, 3), 128, dtype=np.uint8)
    c = np.asarray(colors)
    if c.shape != (n, 3):
        raise InvalidGeometryError(f"splat_points: colors must have shape ({n}, 3), got {c.shape}")
    if np.issubdtype(c.dtype, np.floating):
        return np.clip(np.round(c * 255.0), 0, 255).astype(np.uint8)
    return c.astype(np.uint8)


def splat_points(
    points: np.ndarray,
    colors: np.ndarray | None,
    cameras: Sequence[Camera] | Camera,
    radius_px: float = PARTSLIP_RADIUS_PX,
    background: Sequence[int] = (255, 255, 255),
    num_threads: int | None = None,
) -> SplatResult:
    """Render a point cloud as screen-space discs into a batch of views (rules in the module docstring).

    Args:
        points: (N, 3) world coordinates.
        colors: (N, 3) RGB, float in [0, 1] or uint8; None draws every point mid-grey.
        cameras: one camera or ``B`` cameras sharing one image size.
        radius_px: disc radius in pixels (PartSLIP: 0.005 NDC at 800 px = 2 px).
        background: RGB uint8 colour of empty pixels (PartSLIP: white).
        num_threads: numba threads over views (default: all).
    """
    if isinstance(cameras, Camera):
        cameras = [cameras]
    p = np.asarray(points)
    if p.ndim != 2 or p.shape[1] != 3:
        raise InvalidGeometryError(f"splat_points: points must have shape (N, 3), got {p.shape}")
    p = np.ascontiguousarray(p, dtype=np.float64)
    if not np.isfinite(p).all():
        raise InvalidGeometryError("splat_points: points contain NaN/Inf")
    if not radius_px > 0:
        raise ValueError(f"splat_points: radius_px must be positive, got {radius_px}")
    col = _as_colors(colors, len(p))
    st = stack_cameras(list(cameras))
    h, w = (int(x) for x in st["size"])
    nb, n = len(cameras), len(p)
    ibuf = np.empty((nb, h, w), dtype=np.int64)
    coords = np.empty((nb, n, 2))
    depth = np.empty((nb, n))
    start_numba_threads()
    prev = numba.get_num_threads()
    numba.set_num_threads(max(1, min(num_threads or numba.config.NUMBA_NUM_THREADS, numba.config.NUMBA_NUM_THREADS)))  # type: ignore[attr-defined]  # set by numba at import
    try:
        _splat_views(p, st["R"], st["t"], st["intr"], st["near"], st["far"], float(radius_px), ibuf, coords, depth)
    finally:
        numba.set_num_threads(prev)
    image = np.empty((nb, h, w, 3), dtype=np.uint8)
    image[...] = np.asarray(background, dtype=np.uint8)
    drawn = ibuf >= 0
    image[drawn] = col[ibuf[drawn]]
    visible = np.zeros((nb, n), dtype=bool)
    for b in range(nb):
        visible[b, ibuf[b][drawn[b]]] = True
    return SplatResult(
        image=image,
        point_index=ibuf,
        screen_coords=coords.astype(np.float32),
        depth=depth.astype(np.float32),
        visible=visible,
    )
