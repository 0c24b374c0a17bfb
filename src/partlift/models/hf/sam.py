"""SAM (transformers ``SamModel``): boxes -> foreground masks, as PartSTAD's SAM integration.

Preprocessing follows SAM's: resize the longest side to the model's image size, pad to a square,
normalise with the ImageNet mean/std (or the folder's ``preprocessor_config.json``); the box is
scaled the same way; the low-resolution mask logits are upsampled, cropped to the unpadded image,
resized to the input size and thresholded at 0. One mask per box (``multimask_output=False``, as
PartSTAD's ``predict_torch``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from partlift.models.hf import check_model_dir, model_licence, require_transformers

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class SamBoxMasker:
    """Load a local ``SamModel`` folder and turn boxes into masks.

    Args:
        path: folder written by ``SamModel.save_pretrained``.
    """

    def __init__(self, path: str | Path) -> None:
        transformers = require_transformers()
        self.path = check_model_dir(path, "SAM")
        self.model = transformers.SamModel.from_pretrained(self.path).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.size = int(self.model.config.vision_config.image_size)
        mean, std = IMAGENET_MEAN, IMAGENET_STD
        pre = self.path / "preprocessor_config.json"
        if pre.is_file():
            d = json.loads(pre.read_text())
            mean, std = d.get("image_mean", mean), d.get("image_std", std)
        self.mean = torch.tensor(mean).view(1, 3, 1, 1)
        self.std = torch.tensor(std).view(1, 3, 1, 1)
        self.licence = model_licence(self.path)

    def masks(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """Masks of ``boxes`` (B, 4) (x1, y1, x2, y2 pixels) in ``image`` (H, W, 3) uint8 -> (B, H, W) bool."""
        h, w = image.shape[:2]
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        if len(boxes) == 0:
            return np.zeros((0, h, w), bool)
        scale = self.size / max(h, w)
        nh, nw = int(round(h * scale)), int(round(w * scale))
        x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float() / 255.0
        x = F.interpolate(x, size=(nh, nw), mode="bilinear", align_corners=False)
        x = (x - self.mean) / self.std
        x = F.pad(x, (0, self.size - nw, 0, self.size - nh))
        b = torch.from_numpy(boxes * scale)[None]
        with torch.no_grad():
            out = self.model(pixel_values=x, input_boxes=b, multimask_output=False)
        logits = out.pred_masks[0, :, 0]  # (B, h', w')
        up = F.interpolate(logits[:, None], size=(self.size, self.size), mode="bilinear", align_corners=False)
        up = up[:, :, :nh, :nw]
        full = F.interpolate(up, size=(h, w), mode="bilinear", align_corners=False)[:, 0]
        return (full > 0).numpy()
