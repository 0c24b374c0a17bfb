"""Grounding DINO (transformers) as a part detector, with PartSLIP-style prompt tuning.

The prompt is the part names joined as GLIP's: ``"arm . back . leg ."`` (lower case). Prompt
tuning (PartSLIP; its GLIP recipe tunes only such offsets) adds a learnable offset vector per part name to the text
token embeddings of that name's tokens; every model weight stays frozen. Per image the detector
returns its queries' boxes, a score per part (max over the part's tokens of the sigmoid logits)
and the query's decoder embedding (``last_hidden_state``, d_model values; PartSTAD's 256-d box
feature plays the same role).

Prompt-tuning loss (our choice; PartSLIP used GLIP's own detection loss): Hungarian matching of
queries to ground-truth part boxes with cost L1(box) - P(part), then binary cross-entropy of every
query's part scores against its matched part (unmatched queries: all 0) plus L1 on matched boxes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment

from partlift.models.hf import check_model_dir, model_licence, require_transformers

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class PromptTunedGroundingDino:
    """A frozen Grounding DINO with one learnable text-embedding offset per part name.

    Args:
        path: local folder with the model (``GroundingDinoForObjectDetection.save_pretrained``)
            and its tokenizer.
        part_names: the category's parts, in label order.
        input_size: the image side fed to the model (views are resized to it); None = the folder's
            ``preprocessor_config.json`` shortest edge, else 800.
    """

    def __init__(self, path: str | Path, part_names: Sequence[str], input_size: int | None = None) -> None:
        transformers = require_transformers()
        self.path = check_model_dir(path, "Grounding DINO")
        self.part_names = tuple(part_names)
        self.model = transformers.GroundingDinoForObjectDetection.from_pretrained(self.path).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(self.path)
        mean, std, size = IMAGENET_MEAN, IMAGENET_STD, 800
        pre = self.path / "preprocessor_config.json"
        if pre.is_file():
            d = json.loads(pre.read_text())
            mean, std = d.get("image_mean", mean), d.get("image_std", std)
            s = d.get("size", {})
            size = int(s.get("shortest_edge", size)) if isinstance(s, dict) else int(s)
        self.input_size = int(input_size or size)
        self.mean = torch.tensor(mean).view(1, 3, 1, 1)
        self.std = torch.tensor(std).view(1, 3, 1, 1)
        self.licence = model_licence(self.path)
        self.input_ids, self.token_part = self._prompt()
        hidden = self.model.config.text_config.hidden_size
        self.offsets = torch.nn.Parameter(torch.zeros(len(self.part_names), hidden))
        emb = self.model.model.text_backbone.embeddings.word_embeddings
        self._hook = emb.register_forward_hook(self._add_offsets)

    @property
    def feature_dim(self) -> int:
        return int(self.model.config.d_model)

    def _prompt(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Token ids of "[CLS] name1 . name2 . ... [SEP]" and the part index of every token (-1 = none)."""
        tok = self.tokenizer
        dot = tok.convert_tokens_to_ids(".")
        ids, owner = [tok.cls_token_id], [-1]
        for i, name in enumerate(self.part_names):
            t = tok(name.lower(), add_special_tokens=False)["input_ids"]
            ids += list(t) + [dot]
            owner += [i] * len(t) + [-1]
        ids.append(tok.sep_token_id)
        owner.append(-1)
        limit = int(self.model.config.max_text_len)
        if len(ids) > limit:
            raise ValueError(f"prompt of {len(ids)} tokens exceeds the model's max_text_len {limit}")
        return torch.tensor([ids]), torch.tensor(owner)

    def _add_offsets(self, module, inputs, output):
        ids = inputs[0]
        if ids.shape[-1] != len(self.token_part):
            return output
        sel = self.token_part >= 0
        add = torch.zeros_like(output)
        add[:, sel] = self.offsets[self.token_part[sel]].to(output.dtype)
        return output + add

    def _pixels(self, images: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255.0
        x = F.interpolate(x, size=(self.input_size, self.input_size), mode="bilinear", align_corners=False)
        return (x - self.mean) / self.std

    def forward(self, images: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(B, H, W, 3) uint8 -> part probabilities (B, Q, C), boxes (B, Q, 4) normalised cx, cy, w, h,
        query embeddings (B, Q, d_model). Differentiable in the prompt offsets."""
        b = len(images)
        ids = self.input_ids.expand(b, -1)
        out = self.model(pixel_values=self._pixels(images), input_ids=ids, attention_mask=torch.ones_like(ids))
        prob = torch.sigmoid(out.logits[:, :, : len(self.token_part)])
        parts = torch.stack([prob[:, :, self.token_part == c].amax(-1) for c in range(len(self.part_names))], -1)
        return parts, out.pred_boxes, out.last_hidden_state

    def detect(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-part probabilities (B, Q, C), boxes (B, Q, 4) as pixel (x1, y1, x2, y2) of the input
        images, query features (B, Q, d_model)."""
        h, w = images.shape[1:3]
        with torch.no_grad():
            p, box, feat = self.forward(images)
        cx, cy, bw, bh = box.unbind(-1)
        xyxy = torch.stack([(cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h], -1)
        xyxy[..., 0::2] = xyxy[..., 0::2].clamp(0, w)
        xyxy[..., 1::2] = xyxy[..., 1::2].clamp(0, h)
        return p.numpy(), xyxy.numpy(), feat.numpy()

    def tune_prompts(
        self,
        images: np.ndarray,
        boxes: Sequence[np.ndarray],
        labels: Sequence[np.ndarray],
        steps: int = 100,
        lr: float = 0.05,
        weight_decay: float = 0.25,
        batch_size: int = 3,
        seed: int = 0,
        log: Callable[[str], None] | None = None,
    ) -> list[float]:
        """Fit the offsets on images with ground-truth part boxes (pixels x1, y1, x2, y2) and labels.

        PartSLIP's prompt-tuning optimiser settings (lr 0.05, weight decay 0.25, batch 3).
        Returns the loss per step.
        """
        rng = np.random.default_rng(seed)
        opt = torch.optim.AdamW([self.offsets], lr=lr, weight_decay=weight_decay)
        h, w = images.shape[1:3]
        scale = torch.tensor([w, h, w, h], dtype=torch.float32)
        history = []
        for _ in range(steps):
            idx = rng.choice(len(images), size=min(batch_size, len(images)), replace=False)
            probs, pred, _ = self.forward(images[idx])
            loss = torch.zeros(())
            for j, i in enumerate(idx):
                gt = torch.as_tensor(np.asarray(boxes[i], np.float32).reshape(-1, 4)) / scale
                lab = torch.as_tensor(np.asarray(labels[i], np.int64).reshape(-1))
                gt_cxcywh = torch.stack([(gt[:, 0] + gt[:, 2]) / 2, (gt[:, 1] + gt[:, 3]) / 2,
                                         gt[:, 2] - gt[:, 0], gt[:, 3] - gt[:, 1]], -1)
                target = torch.zeros_like(probs[j])
                if len(lab):
                    cost = torch.cdist(pred[j], gt_cxcywh, p=1) - probs[j][:, lab]
                    qi, gi = linear_sum_assignment(cost.detach().numpy())
                    target[qi, lab[gi]] = 1.0
                    loss = loss + F.l1_loss(pred[j][qi], gt_cxcywh[gi])
                loss = loss + F.binary_cross_entropy(probs[j].clamp(1e-6, 1 - 1e-6), target)
            loss = loss / len(idx)
            opt.zero_grad()
            loss.backward()
            opt.step()
            history.append(float(loss.detach()))
        if log:
            log(f"prompt tuning: {steps} steps, loss {history[0]:.3f} -> {np.mean(history[-10:]):.3f}")
        return history

    def state(self) -> dict:
        return {"offsets": self.offsets.detach().clone(), "part_names": list(self.part_names)}

    def load_offsets(self, offsets: torch.Tensor) -> None:
        with torch.no_grad():
            self.offsets.copy_(offsets)
