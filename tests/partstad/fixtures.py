"""Small generated fixtures for the PartSTAD tests: a toy table and a plain z-buffer projector."""

from __future__ import annotations

import numpy as np

from partlift.geometry.pointcloud import PartPointCloud
from partlift.partstad.config import ViewConfig
from partlift.partstad.views import ShapeViews, view_cameras, visibility_from_index

TABLE_PARTS = ("leg", "tabletop")


def _box_surface(rng, n, lo, hi):
    """n points uniformly on the surface of the axis-aligned box [lo, hi] (area-weighted faces)."""
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    ext = hi - lo
    areas = np.array([ext[1] * ext[2], ext[0] * ext[2], ext[0] * ext[1]] * 2)
    face = rng.choice(6, size=n, p=areas / areas.sum())
    p = lo + rng.random((n, 3)) * ext
    ax = face % 3
    side = face // 3
    p[np.arange(n), ax] = np.where(side == 0, lo[ax], hi[ax])
    return p


def toy_table(n: int = 600, seed: int = 0, name: str = "table0", colors: bool = True) -> PartPointCloud:
    """A table: a top slab (label 1, instance 0) and four legs (label 0, instances 1-4), unit sphere."""
    rng = np.random.default_rng(seed)
    n_top = n // 2
    n_leg = (n - n_top) // 4
    pts = [_box_surface(rng, n_top, (-0.6, 0.2, -0.4), (0.6, 0.3, 0.4))]
    lab = [np.ones(n_top, np.int64)]
    ins = [np.zeros(n_top, np.int64)]
    for i, (x, z) in enumerate([(-0.5, -0.3), (0.5, -0.3), (-0.5, 0.3), (0.5, 0.3)]):
        m = n_leg if i < 3 else n - n_top - 3 * n_leg
        pts.append(_box_surface(rng, m, (x - 0.05, -0.6, z - 0.05), (x + 0.05, 0.2, z + 0.05)))
        lab.append(np.zeros(m, np.int64))
        ins.append(np.full(m, i + 1, np.int64))
    p = np.concatenate(pts)
    p = (p - p.mean(0)) / np.linalg.norm(p - p.mean(0), axis=1).max()
    lab = np.concatenate(lab)
    col = None
    if colors:
        col = np.where(lab[:, None] == 1, [[0.8, 0.5, 0.2]], [[0.3, 0.3, 0.35]]).astype(np.float32)
    return PartPointCloud(p, colors=col, labels=lab, instances=np.concatenate(ins), part_names=TABLE_PARTS,
                          category="Table", name=name)


def write_toy_partnete(root, splits: dict[str, tuple[int, ...]]):
    """Toy tables of 400 points in the PartNetE layout: ``<root>/<split>/Table/t<seed>/`` per seed,
    plus ``meta.json``. Returns ``root``."""
    import json
    from pathlib import Path

    from partlift.geometry.io import save_partnete_shape

    root = Path(root)
    for split, seeds in splits.items():
        for s in seeds:
            save_partnete_shape(toy_table(400, seed=s, name=f"t{s}"), root / split / "Table" / f"t{s}")
    (root / "meta.json").write_text(json.dumps({"Table": list(TABLE_PARTS)}))
    return root


def project_views(points: np.ndarray, colors: np.ndarray | None, config: ViewConfig, radius: int = 1) -> ShapeViews:
    """Slow, obviously-correct square splats with a z-buffer (nearest point wins each pixel)."""
    cams = view_cameras(config)
    s = config.image_size
    n = len(points)
    col = np.full((n, 3), 0.5) if colors is None else colors
    images = np.full((len(cams), s, s, 3), 255, np.uint8)
    index = np.full((len(cams), s, s), -1, np.int64)
    screen = np.zeros((len(cams), n, 2), np.float32)
    for v, cam in enumerate(cams):
        uv, z = cam.project(points)
        screen[v] = uv
        depth = np.full((s, s), np.inf)
        for i in np.argsort(z, kind="stable"):
            c, r = int(np.floor(uv[i, 0])), int(np.floor(uv[i, 1]))
            for dr in range(-radius, radius + 1):
                for dc in range(-radius, radius + 1):
                    rr, cc = r + dr, c + dc
                    if 0 <= rr < s and 0 <= cc < s and z[i] < depth[rr, cc]:
                        depth[rr, cc] = z[i]
                        index[v, rr, cc] = i
                        images[v, rr, cc] = np.round(col[i] * 255)
    dirs = np.stack([c.center / np.linalg.norm(c.center) for c in cams]).astype(np.float32)
    return ShapeViews(images, index, screen, visibility_from_index(index, n), dirs, cams)


SIDED_PARTS = ("seat", "back", "leg_left", "leg_right")
CART_PARTS = ("body", "wheel_front_left", "wheel_front_right", "wheel_back_left", "wheel_back_right")


def toy_cart(n: int = 2000, seed: int = 0, name: str = "cart0") -> PartPointCloud:
    """A cart symmetric about both its x = 0 and z = 0 planes: a body slab, longer along Z, on four
    wheels named by side (``wheel_front_left`` at +X +Z, the object's front left). Every wheel has
    the same colour and shape, so no view shows which way the cart faces: its sides exist only in
    the object frame, as a car's almost do. Unit sphere."""
    rng = np.random.default_rng(seed)
    jitter = rng.uniform(0.9, 1.1, 3)
    boxes = [((-0.35, 0.0, -0.7), (0.35, 0.25, 0.7), 0)]
    for label, (x, z) in enumerate(((0.4, 0.45), (-0.4, 0.45), (0.4, -0.45), (-0.4, -0.45)), start=1):
        boxes.append(((x - 0.06, -0.25, z - 0.15), (x + 0.06, 0.05, z + 0.15), label))
    per = [n // 2] + [n // 8] * 4
    per[0] += n - sum(per)
    pts, lab, ins = [], [], []
    for i, ((lo, hi, label), m) in enumerate(zip(boxes, per, strict=True)):
        pts.append(_box_surface(rng, m, np.array(lo) * jitter, np.array(hi) * jitter))
        lab.append(np.full(m, label, np.int64))
        ins.append(np.full(m, i, np.int64))
    p = np.concatenate(pts)
    p = (p - p.mean(0)) / np.linalg.norm(p - p.mean(0), axis=1).max()
    lab = np.concatenate(lab)
    col = np.where(lab[:, None] >= 1, [[0.2, 0.2, 0.22]], [[0.7, 0.1, 0.1]]).astype(np.float32)
    return PartPointCloud(p, colors=col, labels=lab, instances=np.concatenate(ins), part_names=CART_PARTS,
                          category="Cart", name=name)


def toy_sided_chair(n: int = 800, seed: int = 0, name: str = "chair0") -> PartPointCloud:
    """A chair whose legs are named by side: seat, a backrest at -Z (so the pose is readable),
    ``leg_left`` (the two legs at +X, the object's left) and ``leg_right`` (at -X). Legs share one
    colour, so only the object's pose tells the sides apart. Unit sphere."""
    rng = np.random.default_rng(seed)
    jitter = rng.uniform(0.9, 1.1, 3)
    boxes = [((-0.5, 0.0, -0.45), (0.5, 0.1, 0.45), 0), ((-0.5, 0.1, -0.45), (0.5, 0.9, -0.35), 1)]
    for x in (0.42, -0.42):
        for z in (0.37, -0.37):
            boxes.append(((x - 0.06, -0.7, z - 0.06), (x + 0.06, 0.0, z + 0.06), 2 if x > 0 else 3))
    per = [n // 3, n // 4] + [(n - n // 3 - n // 4) // 4] * 4
    per[-1] += n - sum(per)
    pts, lab, ins = [], [], []
    for i, ((lo, hi, label), m) in enumerate(zip(boxes, per, strict=True)):
        pts.append(_box_surface(rng, m, np.array(lo) * jitter, np.array(hi) * jitter))
        lab.append(np.full(m, label, np.int64))
        ins.append(np.full(m, i, np.int64))
    p = np.concatenate(pts)
    p = (p - p.mean(0)) / np.linalg.norm(p - p.mean(0), axis=1).max()
    lab = np.concatenate(lab)
    col = np.where(lab[:, None] >= 2, [[0.3, 0.3, 0.35]], [[0.8, 0.5, 0.2]]).astype(np.float32)
    return PartPointCloud(p, colors=col, labels=lab, instances=np.concatenate(ins), part_names=SIDED_PARTS,
                          category="SidedChair", name=name)
