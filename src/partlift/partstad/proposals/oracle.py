"""Ground-truth proposals from the renders (``oracle``) and corrupted ones (``noisy-oracle``).

One proposal per (view, ground-truth instance with a part label) whose visible pixels number at
least ``min_area_px``: the instance's pixels, their tight box, score 1. The noisy oracle then drops
proposals, swaps labels, jitters boxes (cutting the mask to the jittered box) and adds false
positives (elliptic blobs of object pixels inside random boxes, random labels), each with the
configured rate; the detector score of a corrupted proposal is drawn lower on average, so a
weight network has a (weak) signal to learn from, as with a real detector.

Features (F = num_parts + 6): one-hot label, box / image size (4), sqrt of the mask's area
fraction, score.
"""

from __future__ import annotations

import dataclasses
import json
import zlib
from pathlib import Path

import numpy as np

from partlift.errors import LabelMismatchError
from partlift.geometry.atomic import atomic_write_text
from partlift.geometry.pointcloud import PartPointCloud
from partlift.partstad.config import NoiseConfig
from partlift.partstad.proposals.base import Proposals, mask_box
from partlift.partstad.views import ShapeViews


def _features(
    label: np.ndarray, box: np.ndarray, area: np.ndarray, score: np.ndarray, num_parts: int, hw
) -> np.ndarray:
    h, w = hw
    onehot = np.zeros((len(label), num_parts), np.float32)
    onehot[np.arange(len(label)), np.clip(label, 0, num_parts - 1)] = 1.0
    geo = box / np.array([w, h, w, h], np.float32)
    return np.concatenate(
        [onehot, geo, np.sqrt(area / float(h * w))[:, None], score[:, None]], axis=1
    ).astype(np.float32)


class OracleProposer:
    """Ground-truth instance masks as proposals (optionally corrupted by ``noise``)."""

    def __init__(self, num_parts: int, noise: NoiseConfig | None = None, min_area_px: int = 4, seed: int = 0) -> None:
        self.num_parts = int(num_parts)
        self.noise = noise
        self.min_area_px = int(min_area_px)
        self.seed = int(seed)
        self.feature_dim = self.num_parts + 6

    def cache_key(self) -> str:
        """Identifies this proposer's output in the preprocessing cache."""
        noise = None if self.noise is None else dataclasses.asdict(self.noise)
        return json.dumps(["oracle", self.num_parts, noise, self.min_area_px, self.seed], sort_keys=True)

    def save(self, path) -> None:
        """Write ``proposer.json`` (the oracle has no weights)."""
        atomic_write_text(Path(path) / "proposer.json", self.cache_key())

    def _rng(self, shape_name: str) -> np.random.Generator:
        return np.random.default_rng([self.seed, zlib.crc32(shape_name.encode())])

    def propose(self, views: ShapeViews, shape: PartPointCloud) -> Proposals:
        """Proposals of ``shape`` in ``views``; ``shape`` must carry ground-truth part labels.

        Raises :class:`LabelMismatchError` for a cloud without any labelled point: the oracle reads
        the answer from the labels, so on an unlabelled cloud it would silently propose nothing.
        """
        h, w = views.size
        labels = np.asarray(shape.labels, np.int64)
        if len(labels) and not (labels >= 0).any():
            raise LabelMismatchError(
                f"the oracle proposers read ground-truth part labels, and {shape.name or 'this cloud'!r} has "
                "none (every label is -1); segment unlabelled clouds with a model trained with "
                "--proposer learned or grounding-dino"
            )
        inst = np.asarray(shape.instances, np.int64)
        # Instance key per point: points without an instance id fall back to one instance per label.
        key = np.where(inst >= 0, inst, -2 - labels)
        key = np.where(labels >= 0, key, -1)
        rng = self._rng(shape.name)
        out = []
        for v in range(views.num_views):
            idx = views.point_index[v]
            fg = idx >= 0
            pix_key = np.where(fg, key[np.maximum(idx, 0)], -1)
            pix_label = np.where(fg, labels[np.maximum(idx, 0)], -1)
            masks, labs = [], []
            for k in np.unique(pix_key[pix_key != -1]):
                m = pix_key == k
                if m.sum() < self.min_area_px:
                    continue
                masks.append(m)
                labs.append(int(pix_label[m][0]))
            props = self._view_props(v, masks, labs, fg, rng, (h, w))
            if props is not None:
                out.append(props)
        return Proposals.concat(out, h, w, self.feature_dim)

    def _view_props(self, v, masks, labs, fg, rng, hw):
        h, w = hw
        nz = self.noise
        boxes = [mask_box(m) for m in masks]
        scores = [1.0] * len(masks)
        if nz is not None:
            kept_m, kept_b, kept_l, kept_s = [], [], [], []
            for m, b, lab in zip(masks, boxes, labs, strict=True):
                if rng.random() < nz.drop_rate:
                    continue
                s = rng.uniform(0.6, 1.0)
                if self.num_parts > 1 and rng.random() < nz.label_swap_rate:
                    lab = int((lab + rng.integers(1, self.num_parts)) % self.num_parts)
                    s = rng.uniform(0.3, 0.8)
                if nz.box_jitter > 0:
                    bw, bh = b[2] - b[0], b[3] - b[1]
                    j = rng.uniform(-nz.box_jitter, nz.box_jitter, 4) * np.array([bw, bh, bw, bh])
                    b = np.clip(b + j, 0, [w, h, w, h]).astype(np.float32)
                    if b[2] - b[0] < 1 or b[3] - b[1] < 1:
                        continue
                    m = m & _box_pixels(b, h, w)
                    if m.sum() < self.min_area_px:
                        continue
                kept_m.append(m)
                kept_b.append(b)
                kept_l.append(lab)
                kept_s.append(s)
            n_fp = rng.poisson(nz.false_positive_rate * max(len(masks), 1)) if fg.any() else 0
            for _ in range(n_fp):
                fp = _false_positive(fg, rng, self.min_area_px)
                if fp is None:
                    continue
                kept_m.append(fp)
                kept_b.append(mask_box(fp))
                kept_l.append(int(rng.integers(0, self.num_parts)))
                kept_s.append(rng.uniform(0.3, 0.8))
            masks, boxes, labs, scores = kept_m, kept_b, kept_l, kept_s
        if not masks:
            return None
        m = np.stack(masks)
        box = np.stack(boxes).astype(np.float32)
        lab = np.asarray(labs, np.int64)
        sc = np.asarray(scores, np.float32)
        feats = _features(lab, box, m.reshape(len(m), -1).sum(1).astype(np.float32), sc, self.num_parts, hw)
        return Proposals(np.full(len(m), v), lab, sc, box, m, feats)


def _box_pixels(box: np.ndarray, h: int, w: int) -> np.ndarray:
    cols = np.arange(w) + 0.5
    rows = np.arange(h) + 0.5
    return ((rows > box[1]) & (rows < box[3]))[:, None] & ((cols > box[0]) & (cols < box[2]))[None, :]


def _false_positive(fg: np.ndarray, rng: np.random.Generator, min_area: int) -> np.ndarray | None:
    """Object pixels inside a random ellipse within the object's bounding box."""
    obj = mask_box(fg)
    ow, oh = obj[2] - obj[0], obj[3] - obj[1]
    for _ in range(5):
        rw, rh = rng.uniform(0.1, 0.5) * ow / 2, rng.uniform(0.1, 0.5) * oh / 2
        cx, cy = rng.uniform(obj[0], obj[2]), rng.uniform(obj[1], obj[3])
        rows, cols = np.mgrid[0 : fg.shape[0], 0 : fg.shape[1]]
        ell = ((cols + 0.5 - cx) / max(rw, 0.5)) ** 2 + ((rows + 0.5 - cy) / max(rh, 0.5)) ** 2 <= 1.0
        m = ell & fg
        if m.sum() >= min_area:
            return m
    return None
