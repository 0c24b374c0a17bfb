"""The deformable neural mesh N = {V, A, Theta, P, Z} of Part321 (section 4.1).

V: (K, 3) template vertices, A: (F, 3) faces, Theta: (K, C) per-vertex features, P: (K,) part
labels, Z: (K, D) per-vertex shape latents (slot 0 = the template itself, see
:mod:`partlift.part321.deformation`). The mesh also carries NeMo's clutter bank (background
features) and the fitted deformation network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from partlift.errors import ReadError
from partlift.geometry.atomic import atomic_torch_save
from partlift.geometry.partmesh import PartMesh
from partlift.geometry.safe_load import load_torch_checkpoint, one_line
from partlift.part321.deformation import Deformer

FORMAT = "partlift-neural-mesh"
VERSION = 2  # 2: arrays stored as tensors (1 pickled numpy arrays, which weights-only loading refuses)
ARRAYS = ("vertices", "faces", "features", "labels", "latents", "clutter")


def init_features(num: int, dim: int, seed: int) -> np.ndarray:
    """(num, dim) float32 unit vectors, NeMo-style uniform init then L2-normalised."""
    rng = np.random.default_rng(seed)
    bound = 1.0 / np.sqrt(dim / 3.0)
    x = rng.uniform(-bound, bound, size=(num, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@dataclass(eq=False)
class DeformableNeuralMesh:
    """Template mesh with neural features, part labels, shape latents and a deformation network.

    Attributes:
        vertices: (K, 3) float32 template vertices V (object frame, docs/CONVENTIONS.md).
        faces: (F, 3) int64 faces A.
        features: (K, C) float32 unit vertex features Theta.
        labels: (K,) int64 part label P per vertex, -1 = no part.
        part_names: names of the part labels.
        latents: (K, D) float32 per-vertex shape latents Z (rest state: one-hot slot 0).
        clutter: (Q, C) float32 clutter (background) feature queue.
        deformer: fitted deformation network, or None (no deformation available).
        shape_names: name of each latent slot (slot 0 = "template").
        category: category name.
    """

    vertices: np.ndarray
    faces: np.ndarray
    features: np.ndarray
    labels: np.ndarray
    part_names: tuple[str, ...]
    latents: np.ndarray | None = None
    clutter: np.ndarray | None = None
    deformer: Deformer | None = None
    shape_names: tuple[str, ...] = ("template",)
    category: str = ""
    _cache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.vertices = np.ascontiguousarray(self.vertices, dtype=np.float32)
        self.faces = np.ascontiguousarray(self.faces, dtype=np.int64)
        self.features = np.ascontiguousarray(self.features, dtype=np.float32)
        self.labels = np.ascontiguousarray(self.labels, dtype=np.int64)
        self.part_names = tuple(self.part_names)
        k = len(self.vertices)
        if self.features.shape[0] != k or self.labels.shape != (k,):
            raise ValueError(
                f"neural mesh: features {self.features.shape} / labels {self.labels.shape} vs {k} vertices"
            )
        if self.latents is None:
            d = self.deformer.latent_dim if self.deformer is not None else 1
            self.latents = np.zeros((k, d), dtype=np.float32)
            self.latents[:, 0] = 1.0
        if self.clutter is None:
            self.clutter = np.zeros((0, self.feature_dim), dtype=np.float32)

    # ------------------------------------------------------------------ construction
    @staticmethod
    def from_template(
        template: PartMesh, feature_dim: int = 64, deformer: Deformer | None = None,
        shape_names: tuple[str, ...] = ("template",), seed: int = 0,
    ) -> DeformableNeuralMesh:
        """A neural mesh on an annotated template with randomly initialised unit features."""
        assert template.labels is not None  # set by PartMesh.__post_init__
        return DeformableNeuralMesh(
            vertices=template.vertices, faces=template.faces,
            features=init_features(len(template.vertices), feature_dim, seed),
            labels=template.labels, part_names=tuple(template.part_names), deformer=deformer,
            shape_names=tuple(shape_names), category=template.category,
        )

    # ------------------------------------------------------------------ queries
    @property
    def feature_dim(self) -> int:
        return int(self.features.shape[1])

    @property
    def num_parts(self) -> int:
        return len(self.part_names)

    @property
    def latent_dim(self) -> int:
        assert self.latents is not None  # set by __post_init__
        return int(self.latents.shape[1])

    def groups(self) -> np.ndarray:
        """(K,) int64 part index per vertex with -1 mapped to ``num_parts`` (the rigid rest)."""
        return np.where(self.labels >= 0, self.labels, self.num_parts)

    def clutter_mean(self) -> np.ndarray:
        """(C,) float32 normalised mean clutter feature (NeMo's single background competitor)."""
        assert self.clutter is not None  # set by __post_init__
        if len(self.clutter) == 0:
            return np.zeros(self.feature_dim, dtype=np.float32)
        m = self.clutter.mean(axis=0)
        n = np.linalg.norm(m)
        return (m / n if n > 0 else m).astype(np.float32)

    def deformed_vertices(self, latents: np.ndarray | None = None) -> np.ndarray:
        """(K, 3) float32 ``V + phi(V, Z)`` for (K, D) latents (default the mesh's own Z)."""
        z = self.latents if latents is None else np.asarray(latents, dtype=np.float32)
        if self.deformer is None:
            return self.vertices.copy()
        assert z is not None  # latents are set by __post_init__
        return self.deformer.predict(self.vertices, z)

    def to_part_mesh(self, vertices: np.ndarray | None = None) -> PartMesh:
        """The template (or the given (K, 3) vertices) as a :class:`PartMesh` with the part labels."""
        return PartMesh(
            self.vertices if vertices is None else vertices, self.faces, self.labels, self.part_names,
            category=self.category, name=f"{self.category}_neural_mesh",
        )

    def tensors(self, dtype: torch.dtype = torch.float32) -> dict:
        """Cached torch views: vertices, faces, features, groups."""
        key = ("tensors", dtype, id(self.features), torch.get_default_device())
        if key not in self._cache:
            self._cache[key] = {
                "vertices": torch.as_tensor(self.vertices, dtype=dtype),
                "faces": torch.as_tensor(self.faces, dtype=torch.long),
                "features": torch.as_tensor(self.features, dtype=dtype),
                "groups": torch.as_tensor(self.groups(), dtype=torch.long),
            }
        return self._cache[key]

    def to(self, device: torch.device | str) -> DeformableNeuralMesh:
        """Move the deformation network to ``device`` (the arrays stay NumPy; their cached tensors
        are made on the default device of the caller's ``torch.device`` context). Returns self."""
        if self.deformer is not None:
            assert self.deformer.net is not None  # a mesh holds fitted deformers only
            self.deformer.net.to(device)
        self.invalidate()
        return self

    def invalidate(self) -> None:
        """Drop cached tensors and pre-renderings (after the features change)."""
        self._cache.clear()

    # ------------------------------------------------------------------ persistence
    def state(self) -> dict:
        """Everything as tensors and plain values (loadable with ``torch.load(weights_only=True)``)."""
        arrays = {k: torch.from_numpy(np.ascontiguousarray(getattr(self, k))) for k in ARRAYS}
        return {
            "format": FORMAT, "version": VERSION, **arrays,
            "part_names": list(self.part_names), "shape_names": list(self.shape_names), "category": self.category,
            "deformer": None if self.deformer is None else self.deformer.state(),
        }

    @staticmethod
    def from_state(s: dict, source: str | Path = "neural mesh") -> DeformableNeuralMesh:
        """Inverse of :meth:`state`; ``source`` (the file) names the culprit in errors."""
        if not isinstance(s, dict) or s.get("format") != FORMAT:
            fmt = s.get("format") if isinstance(s, dict) else type(s).__name__
            raise ReadError(f"{source} is not a partlift neural mesh (format {fmt!r})")
        if s.get("version") != VERSION:
            raise ReadError(f"{source} is neural mesh format {s.get('version')!r}, this partlift reads {VERSION}; "
                            "retrain the model")
        try:
            arrays = {k: s[k].numpy() for k in ARRAYS}
            deformer = None if s["deformer"] is None else Deformer.from_state(s["deformer"], source)
            return DeformableNeuralMesh(
                **arrays, part_names=tuple(s["part_names"]), deformer=deformer,
                shape_names=tuple(s["shape_names"]), category=s["category"],
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            msg = f"{source} is a damaged neural mesh ({type(exc).__name__}: {one_line(exc)}); retrain the model"
            raise ReadError(msg) from exc

    def save(self, path: str | Path) -> None:
        """Write to ``path`` (tensors and plain values; the deformation network's weights)."""
        atomic_torch_save(self.state(), path)

    @staticmethod
    def load(path: str | Path) -> DeformableNeuralMesh:
        """Read a file written by :meth:`save`; ReadError naming it if it is missing, damaged or unsafe."""
        s = load_torch_checkpoint(path, what="neural mesh")
        return DeformableNeuralMesh.from_state(s, path)
