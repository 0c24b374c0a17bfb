"""The Table 4-style 2D baseline: an encoder-decoder part segmenter trained on the same synthetic images.

Fair supervision: like Part321 it sees only the one annotated template. Its training masks are
the template's own masks plus pseudo-masks of the training images, rendered from the training
meshes labelled by transferring the template's labels through the mesh-to-mesh correspondence
(the training meshes' true labels are never read).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from tqdm.auto import tqdm

from partlift.errors import ReadError
from partlift.geometry.atomic import atomic_torch_save
from partlift.geometry.partmesh import PartMesh
from partlift.geometry.safe_load import load_state_dict_checked, load_torch_checkpoint, one_line
from partlift.models.seg2d import Seg2DConfig, Seg2DNet
from partlift.part321.correspondence import MeshCorrespondence
from partlift.part321.data import TEMPLATE, TrainImage
from partlift.part321.inference import torch_threads
from partlift.render.rasterize import rasterize
from partlift.render.shading import nearest_corner_labels
from partlift.validation import bounded, validate_config


@dataclass(frozen=True)
class Seg2DTrainConfig:
    """Training of the 2D baseline."""

    epochs: int = bounded(40, ge=1)
    """Passes over the training images (as many as Part321's feature training)."""
    batch_size: int = bounded(8, ge=1)
    """Images per step."""
    lr: float = bounded(2e-3, gt=0)
    """Adam learning rate (x0.2 at 60 % and 85 % of training)."""
    arch: Literal["cnn", "unet"] = "cnn"
    """Segmenter architecture: "cnn" or "unet" (models.seg2d)."""
    width: int = bounded(16, ge=1)
    """"unet" width."""
    depth: int = bounded(4, ge=1)
    """"unet" levels."""
    balanced: bool = True
    """Median-frequency class weights in the cross-entropy (without them the net learns to predict
    background everywhere in this budget)."""
    threads: int = bounded(1, ge=1)
    """Torch threads."""
    seed: int = bounded(0, ge=0)
    """Seed of initialisation, batching and augmentation."""

    def __post_init__(self) -> None:
        validate_config(self)


def pseudo_masks(
    template: PartMesh, meshes: list[PartMesh], images: list[TrainImage], corr: MeshCorrespondence
) -> list[np.ndarray]:
    """(H, W) int64 part masks of the training images from transferred labels (-1 = background)."""
    labelled = []
    assert template.labels is not None  # set by PartMesh.__post_init__
    tf = corr.vertex_features(template)
    for m in meshes:
        labels = template.labels[corr.match_features(corr.vertex_features(m), tf)]
        labelled.append(m.copy(labels=labels, part_names=template.part_names))
    out = []
    for im in images:
        mesh = template if im.mesh == TEMPLATE else labelled[im.mesh]
        frag = rasterize(mesh.vertices, mesh.faces, im.camera, num_threads=1)
        assert frag.bary is not None and mesh.labels is not None
        out.append(nearest_corner_labels(frag.face_ids, frag.bary, mesh.faces, mesh.labels)[0].astype(np.int64))
    return out


class Seg2DBaseline:
    """U-Net part segmenter (scikit-learn style)."""

    def __init__(self, config: Seg2DTrainConfig = Seg2DTrainConfig()) -> None:
        self.config = config
        self.net: Seg2DNet | None = None
        self.part_names: tuple[str, ...] = ()
        self.seconds = 0.0

    def fit(self, images: list[np.ndarray], masks: list[np.ndarray], part_names, progress: bool = False):
        """Train on (H, W, 3) uint8 images and (H, W) int masks (-1 = background)."""
        cfg = self.config
        t0 = time.perf_counter()
        self.part_names = tuple(part_names)
        with torch_threads(cfg.threads):
            torch.manual_seed(cfg.seed)
            gen = torch.Generator().manual_seed(cfg.seed)
            net = Seg2DNet(Seg2DConfig(len(self.part_names), cfg.arch, cfg.width, cfg.depth))
            x = torch.stack([torch.from_numpy(np.array(i, dtype=np.float32)).permute(2, 0, 1) / 255.0 for i in images])
            y = torch.stack([torch.as_tensor(m, dtype=torch.long) for m in masks])
            weights = Seg2DNet.balanced_weights(y, len(self.part_names)) if cfg.balanced else None
            steps = cfg.epochs * int(np.ceil(len(x) / cfg.batch_size))
            opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
            sched = torch.optim.lr_scheduler.MultiStepLR(opt, [int(0.6 * steps), int(0.85 * steps)], 0.2)
            net.train()
            for _ in tqdm(range(cfg.epochs), desc="seg2d", disable=not progress, leave=False):
                order = torch.randperm(len(x), generator=gen)
                for s in range(0, len(x), cfg.batch_size):
                    idx = order[s : s + cfg.batch_size]
                    xb = x[idx]
                    gain = 1.0 + 0.4 * (torch.rand(len(idx), 3, 1, 1, generator=gen) - 0.5)
                    xb = (xb * gain).clamp(0, 1)
                    loss = net.loss(xb, y[idx], weights)
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    sched.step()
            self.net = net.eval()
        self.seconds = time.perf_counter() - t0
        return self

    def predict(self, image: np.ndarray) -> np.ndarray:
        """(H, W) int64 part labels (-1 = background) of one (H, W, 3) uint8 image."""
        assert self.net is not None, "the 2D baseline is not trained"
        with torch_threads(self.config.threads):
            x = torch.from_numpy(np.array(image[..., :3], dtype=np.float32)).permute(2, 0, 1)[None]
            return self.net.predict(x / 255.0)[0].numpy().astype(np.int64)

    def save(self, path: str | Path) -> None:
        assert self.net is not None, "the 2D baseline is not trained"
        atomic_torch_save({"config": asdict(self.config), "part_names": list(self.part_names),
                           "state": self.net.state_dict()}, path)

    @staticmethod
    def load(path: str | Path) -> Seg2DBaseline:
        """Read a file written by :meth:`save`; ReadError naming it if it is missing, damaged or unsafe."""
        ck = load_torch_checkpoint(path, what="2D baseline", keys=("config", "part_names", "state"))
        try:
            b = Seg2DBaseline(Seg2DTrainConfig(**ck["config"]))
            b.part_names = tuple(str(n) for n in ck["part_names"])
            b.net = Seg2DNet(Seg2DConfig(len(b.part_names), b.config.arch, b.config.width, b.config.depth))
        except (TypeError, ValueError) as exc:
            msg = f"{path} has no valid 2D baseline settings ({type(exc).__name__}: {one_line(exc)}); retrain it"
            raise ReadError(msg) from exc
        load_state_dict_checked(b.net, ck["state"], path, what="2D baseline")
        b.net.eval()
        return b
