"""Per-shape preprocessing (views, proposals, superpoints) with an on-disk cache, and the derived
lifting structures every method shares.

A :class:`PreparedShape` holds the unit-sphere normalised cloud, its views, its proposals and its
superpoints. The cache stores each stage in ``<root>/<shape fingerprint>/<stage>-<config hash>.npz``
(written atomically), so an interrupted job resumes and a changed config recomputes only what it
affects.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from partlift.errors import InvalidGeometryError
from partlift.geometry.atomic import atomic_savez
from partlift.geometry.normalize import unit_sphere_normalization
from partlift.geometry.pointcloud import PartPointCloud
from partlift.partstad.config import SuperpointConfig, ViewConfig, config_hash
from partlift.partstad.lifting import (
    Incidence,
    LiftGraph,
    build_lift_graph,
    not_whole_object,
    point_votes,
    proposal_incidence,
    superpoint_ratios,
)
from partlift.partstad.normals import estimate_normals
from partlift.partstad.proposals.base import Proposals, Proposer
from partlift.partstad.superpoints import SUPERPOINT_ALGORITHM, compute_superpoints, split_superpoints
from partlift.partstad.views import ShapeViews, render_views, view_cameras


class ShapeCache:
    """npz files per (shape fingerprint, stage, config hash); ``root=None`` disables caching."""

    def __init__(self, root: str | os.PathLike | None) -> None:
        self.root = None if root is None else Path(root)

    def path(self, shape_key: str, stage: str, key: str) -> Path | None:
        return None if self.root is None else self.root / shape_key / f"{stage}-{key}.npz"

    def load(self, shape_key: str, stage: str, key: str) -> dict[str, np.ndarray] | None:
        p = self.path(shape_key, stage, key)
        if p is None or not p.exists():
            return None
        try:
            with np.load(p, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        except (OSError, ValueError):
            return None  # a corrupt entry is recomputed

    def save(self, shape_key: str, stage: str, key: str, arrays: dict[str, np.ndarray]) -> None:
        p = self.path(shape_key, stage, key)
        if p is None:
            return
        p.parent.mkdir(parents=True, exist_ok=True)
        atomic_savez(p, **arrays)


def shape_fingerprint(points: np.ndarray, colors: np.ndarray | None) -> str:
    """Hash of the coordinates and colours (the cache key of a shape)."""
    h = hashlib.sha1(np.ascontiguousarray(points, np.float32).tobytes())
    if colors is not None:
        h.update(np.ascontiguousarray(colors, np.float32).tobytes())
    return h.hexdigest()[:16]


@dataclass
class LiftInputs:
    """Derived lifting structures of one shape for one lifting mode."""

    incidence: Incidence
    graph: LiftGraph
    keep: np.ndarray  # (P,) bool proposals used (whole-object filter)
    ratios: np.ndarray  # (K, P) in-proposal ratios for instance merging


@dataclass
class PreparedShape:
    """A shape ready for lifting.

    Attributes:
        name, category: identifiers.
        points: (N, 3) float32 unit-sphere normalised coordinates of the finite input points.
        colors: (N, 3) float32 or None.
        keep_index: (N,) int64 index of these points in the original input (NaN rows removed).
        num_input: number of input points.
        views: the rendered views.
        proposals: 2D proposals.
        superpoints: (N,) int64 superpoint ids.
        labels, instances: (N,) int64 ground truth (or None).
        timings: seconds per stage (0 when loaded from the cache).
    """

    name: str
    category: str
    points: np.ndarray
    colors: np.ndarray | None
    keep_index: np.ndarray
    num_input: int
    views: ShapeViews
    proposals: Proposals
    superpoints: np.ndarray
    labels: np.ndarray | None = None
    instances: np.ndarray | None = None
    timings: dict[str, float] = field(default_factory=dict)
    _lift: dict = field(default_factory=dict, repr=False)

    @property
    def num_superpoints(self) -> int:
        return int(self.superpoints.max()) + 1 if len(self.superpoints) else 0

    def lift(self, num_labels: int, use_masks: bool, min_visible: int, whole_object_ratio: float | None) -> LiftInputs:
        """Incidence, voting graph and ratios for a lifting mode (memoised)."""
        key = (num_labels, use_masks, min_visible, whole_object_ratio)
        if key not in self._lift:
            t = time.perf_counter()
            inc = proposal_incidence(self.proposals, self.views, use_masks=use_masks)
            if whole_object_ratio is None:
                keep = np.ones(len(self.proposals), bool)
            else:
                keep = not_whole_object(self.proposals, self.views, whole_object_ratio)
            graph = build_lift_graph(
                inc, self.proposals, self.views, self.superpoints, num_labels, min_visible, proposal_mask=keep
            )
            ratios = superpoint_ratios(inc, self.proposals, self.views, self.superpoints, self.num_superpoints)
            self._lift[key] = LiftInputs(inc, graph, keep, ratios)
            self.timings["lift"] = self.timings.get("lift", 0.0) + time.perf_counter() - t
        return self._lift[key]

    def split_by_proposals(self, num_labels: int, share: float, min_points: int, k: int) -> PreparedShape:
        """This shape with its superpoints split along its proposals
        (:func:`~partlift.partstad.superpoints.split_superpoints` of the per-point mask votes,
        :func:`~partlift.partstad.lifting.point_votes`); memoised, the shape itself is unchanged."""
        key = ("split", num_labels, share, min_points, k)
        if key not in self._lift:
            t = time.perf_counter()
            inc = proposal_incidence(self.proposals, self.views, use_masks=True)
            votes = point_votes(inc, self.proposals, self.views, num_labels)
            voted = np.where(votes.max(1) > 0, votes.argmax(1), -1)
            sp = split_superpoints(self.points, self.superpoints, voted, share, min_points, k)
            timings = dict(self.timings)
            timings["split"] = time.perf_counter() - t
            self._lift[key] = replace(self, superpoints=sp, timings=timings, _lift={})
        return self._lift[key]

    def drop_images(self) -> None:
        """Free the rendered images and pixel ownership maps (not needed after proposing)."""
        self.views.image = self.views.image[:, :1, :1]
        self.views.point_index = self.views.point_index[:, :1, :1]


def finite_points(points: np.ndarray, colors: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Drop rows with NaN/Inf coordinates. Returns (points, colors, kept indices)."""
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 3:
        raise InvalidGeometryError(f"points must have shape (N, 3), got {p.shape}")
    ok = np.isfinite(p).all(1)
    c = None if colors is None else np.asarray(colors, dtype=np.float32)
    if c is not None:
        if c.shape != p.shape:
            raise InvalidGeometryError(f"colors must have shape {p.shape}, got {c.shape}")
        c = np.where(np.isfinite(c), c, 0.5)[ok].astype(np.float32)
    keep = np.flatnonzero(ok)
    if len(keep) < 4:
        raise InvalidGeometryError(f"point cloud has {len(keep)} finite points; need at least 4")
    return p[ok], c, keep


class Preprocessor:
    """Renders, proposes and over-segments shapes, with caching and per-stage timing."""

    def __init__(
        self,
        view_config: ViewConfig,
        superpoint_config: SuperpointConfig,
        proposer: Proposer,
        proposer_key: str,
        cache: ShapeCache | None = None,
    ) -> None:
        self.view_config = view_config
        self.superpoint_config = superpoint_config
        self.proposer = proposer
        self.proposer_key = proposer_key
        self.cache = cache or ShapeCache(None)

    def prepare(self, cloud: PartPointCloud | np.ndarray, colors: np.ndarray | None = None, name: str = "",
                category: str = "", keep_images: bool = False) -> PreparedShape:
        """Preprocess one shape (a :class:`PartPointCloud`, or raw (N, 3) points which may hold NaN rows)."""
        if isinstance(cloud, PartPointCloud):
            pts_in, col_in = cloud.points, cloud.colors
            name, category = name or cloud.name, category or cloud.category
            labels, instances = cloud.labels, cloud.instances
        else:
            pts_in, col_in, labels, instances = cloud, colors, None, None
        num_input = len(pts_in)
        pts, col, keep = finite_points(pts_in, col_in)
        norm = unit_sphere_normalization(pts)
        p = norm.apply(pts)
        gt = None if labels is None else np.asarray(labels, np.int64)[keep]
        gi = None if instances is None else np.asarray(instances, np.int64)[keep]
        skey = shape_fingerprint(p, col)
        timings: dict[str, float] = {}

        t = time.perf_counter()
        vkey = config_hash(self.view_config)
        cached = self.cache.load(skey, "views", vkey)
        if cached is not None:
            views = ShapeViews(cached["image"], cached["point_index"].astype(np.int64), cached["screen"],
                               cached["visible"], cached["view_dirs"], view_cameras(self.view_config))
        else:
            views = render_views(p, col, self.view_config)
            self.cache.save(skey, "views", vkey, {
                "image": views.image, "point_index": views.point_index.astype(np.int32), "screen": views.screen,
                "visible": views.visible, "view_dirs": views.view_dirs,
            })
        timings["render"] = time.perf_counter() - t

        t = time.perf_counter()
        skey_sp = config_hash(self.superpoint_config, SUPERPOINT_ALGORITHM)
        cached = self.cache.load(skey, "superpoints", skey_sp)
        if cached is not None:
            sp, normals = cached["superpoints"].astype(np.int64), cached["normals"]
        else:
            sc = self.superpoint_config
            normals = estimate_normals(p, sc.normal_radius, sc.normal_max_nn, sc.k)
            sp = compute_superpoints(p, col, sc, normals=normals)
            self.cache.save(skey, "superpoints", skey_sp, {"superpoints": sp.astype(np.int32), "normals": normals})
        timings["superpoints"] = time.perf_counter() - t

        t = time.perf_counter()
        pkey = config_hash(self.view_config, self.proposer_key)
        cached = self.cache.load(skey, "proposals", pkey)
        if cached is not None:
            props = Proposals(cached["view"], cached["label"], cached["score"], cached["box"],
                              np.unpackbits(cached["masks"], axis=-1, count=views.size[1]).astype(bool),
                              cached["features"])
        else:
            shape = PartPointCloud(p, normals=normals, colors=col, labels=gt, instances=gi, name=name,
                                   category=category)
            props = self.proposer.propose(views, shape)
            self.cache.save(skey, "proposals", pkey, {
                "view": props.view, "label": props.label, "score": props.score, "box": props.box,
                "masks": np.packbits(props.masks, axis=-1), "features": props.features,
            })
        timings["proposals"] = time.perf_counter() - t

        ps = PreparedShape(name, category, p, col, keep, num_input, views, props, sp, gt, gi, timings)
        if not keep_images:
            ps.drop_images()
        return ps
