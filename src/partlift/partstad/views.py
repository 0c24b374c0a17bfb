"""PartSLIP's fixed views of a point cloud: images, per-point screen coordinates and visibility.

PartSLIP renders the unit-sphere normalised cloud from 10 fixed views (800 px, FoV 60, distance 2.2,
2 px splats, one point per pixel); a point is visible in a view iff it owns at least one pixel
(PartSLIP's ``src/render_pc.py``). Screen coordinates follow partlift's pixel convention (u = column,
v = row, (0, 0) the top-left corner of the top-left pixel), which equals PyTorch3D's screen space,
so a mask lookup is ``mask[int(v), int(u)]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from partlift.partstad.config import PARTSLIP_RADIUS_NDC, ViewConfig
from partlift.render.camera import Camera


@dataclass
class ShapeViews:
    """The views of one shape.

    Attributes:
        image: (V, H, W, 3) uint8 RGB renders, white background.
        point_index: (V, H, W) int64 index of the point owning each pixel, -1 = background.
        screen: (V, N, 2) float32 (u, v) pixel coordinates of every point (occluded ones too).
        visible: (V, N) bool, the point owns at least one pixel of the view.
        view_dirs: (V, 3) float32 unit vectors from the object centre towards each camera.
        cameras: the V cameras.
        hw: (H, W) image size; taken from ``point_index`` if not given.
    """

    image: np.ndarray
    point_index: np.ndarray
    screen: np.ndarray
    visible: np.ndarray
    view_dirs: np.ndarray
    cameras: list[Camera]
    hw: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.hw is None:
            self.hw = (int(self.point_index.shape[1]), int(self.point_index.shape[2]))

    @property
    def num_views(self) -> int:
        return int(self.visible.shape[0])

    @property
    def size(self) -> tuple[int, int]:
        """(H, W) in pixels (kept when the images are dropped to save memory)."""
        assert self.hw is not None  # set by __post_init__
        return self.hw

    def pixel_of(self, view: int, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cols) int64 pixel of the given point indices in ``view``, clipped to the image."""
        h, w = self.size
        uv = self.screen[view, points]
        cols = np.clip(np.floor(uv[:, 0]), 0, w - 1).astype(np.int64)
        rows = np.clip(np.floor(uv[:, 1]), 0, h - 1).astype(np.int64)
        return rows, cols


def view_cameras(config: ViewConfig) -> list[Camera]:
    """The look-at cameras of ``config.views`` (PartSLIP: 10 views, 2.2 units away, FoV 60)."""
    s = config.image_size
    return [Camera.look_at(azimuth=a, elevation=e, distance=config.distance, fov=config.fov, width=s, height=s,
                           degrees=True) for e, a in config.views]


def splat_radius_px(points: np.ndarray, config: ViewConfig) -> float:
    """Splat radius in pixels for ``config`` (see :attr:`ViewConfig.radius_px`).

    Auto mode: 2 x the median nearest-neighbour spacing, projected at the nearest possible depth of
    a unit-sphere cloud (distance - 1). Randomly placed discs of that radius cover ~96 % of a
    surface (coverage 1 - exp(-pi r^2 rho), rho ~ 1 / (4 spacing^2)), so back surfaces do not leak
    through holes of the front one. Never less than PartSLIP's 0.005 NDC radius.
    """
    floor = PARTSLIP_RADIUS_NDC * config.image_size / 2.0
    if config.radius_px is not None:
        return float(config.radius_px)
    p = np.asarray(points, dtype=np.float64)
    if len(p) < 2:
        return floor
    sample = p[:: max(1, len(p) // 2000)]
    d, _ = cKDTree(p).query(sample, k=2)
    spacing = float(np.median(d[:, 1]))
    focal = (config.image_size / 2.0) / np.tan(np.radians(config.fov) / 2.0)
    return max(floor, 2.0 * spacing * focal / max(config.distance - 1.0, 0.1))


def render_views(points: np.ndarray, colors: np.ndarray | None, config: ViewConfig | None = None) -> ShapeViews:
    """Splat a (unit-sphere normalised) cloud into the configured views.

    Args:
        points: (N, 3) float coordinates, finite.
        colors: (N, 3) float RGB in [0, 1], or None (grey).
        config: :class:`ViewConfig`.
    """
    from partlift.render.splat import splat_points

    cfg = config or ViewConfig()
    p = np.asarray(points, dtype=np.float32)
    c = np.full((len(p), 3), 0.5, np.float32) if colors is None else np.asarray(colors, np.float32)
    cams = view_cameras(cfg)
    res = splat_points(p, c, cams, radius_px=splat_radius_px(p, cfg))
    dirs = np.stack([cam.center / np.linalg.norm(cam.center) for cam in cams]).astype(np.float32)
    index = np.asarray(res.point_index, dtype=np.int64)
    return ShapeViews(
        image=np.asarray(res.image),
        point_index=index,
        screen=np.asarray(res.screen_coords, dtype=np.float32),
        visible=visibility_from_index(index, len(p)),
        view_dirs=dirs,
        cameras=cams,
    )


def visibility_from_index(point_index: np.ndarray, num_points: int) -> np.ndarray:
    """(V, N) bool: point n owns at least one pixel of view v (PartSLIP's visibility)."""
    v = point_index.shape[0]
    vis = np.zeros((v, num_points), dtype=bool)
    for k in range(v):
        idx = point_index[k][point_index[k] >= 0]
        vis[k, idx] = True
    return vis
