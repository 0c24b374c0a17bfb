"""The learned foreground head: block-averaged masks against a loop, a separable toy it must
recover, and its weights-only file."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers import assert_close
from partlift.errors import ReadError
from partlift.part321.foreground import ForegroundHead, ForegroundHeadConfig, mask_at


def test_mask_at_is_the_share_of_object_pixels_per_cell():
    rng = np.random.default_rng(0)
    mask = rng.random((64, 48)) > 0.6
    got = mask_at(mask, 16, 12)
    ref = np.array([[mask[4 * i : 4 * i + 4, 4 * j : 4 * j + 4].mean() for j in range(12)] for i in range(16)])
    assert_close(got, ref, atol=1e-6)


def _toy(seed: int, c: int = 8, h: int = 16, w: int = 16) -> tuple[torch.Tensor, np.ndarray]:
    """A disc of object pixels: their features lean towards one unit direction, the background's
    towards another, plus noise; the mask is given at 4x the feature resolution."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[: 4 * h, : 4 * w]
    cy, cx, r = rng.uniform(20, 44), rng.uniform(20, 44), rng.uniform(8, 16)
    mask = (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
    small = mask_at(mask, h, w) >= 0.5
    obj, bg = np.eye(c)[0], np.eye(c)[1]
    f = np.where(small[..., None], obj, bg) + 0.3 * rng.standard_normal((h, w, c))
    f /= np.linalg.norm(f, axis=-1, keepdims=True)
    return torch.from_numpy(f.transpose(2, 0, 1).astype(np.float32)), mask


def test_the_head_recovers_a_separable_foreground():
    train = [_toy(s) for s in range(6)]
    head = ForegroundHead(ForegroundHeadConfig(steps=200)).fit([f for f, _ in train], [m for _, m in train])
    for seed in (10, 11, 12):
        f, mask = _toy(seed)
        truth = mask_at(mask, 16, 16) >= 0.5
        pred = head.predict(f)
        iou = (pred & truth).sum() / (pred | truth).sum()
        assert iou > 0.9, f"toy {seed}: IoU {iou:.2f}"


def test_save_load_round_trip_and_a_bad_file(tmp_path):
    f, mask = _toy(0)
    head = ForegroundHead(ForegroundHeadConfig(steps=20, hidden=4)).fit([f], [mask])
    head.save(tmp_path / "fg.pt")
    back = ForegroundHead.load(tmp_path / "fg.pt")
    assert_close(back.logits(f).numpy(), head.logits(f).numpy(), atol=0)
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ReadError, match="bad.pt"):
        ForegroundHead.load(tmp_path / "bad.pt")
    torch.save({"channels": 8, "config": {"hidden": 5}, "state": head.state()["state"]}, tmp_path / "other.pt")
    with pytest.raises(ReadError, match="other.pt"):
        ForegroundHead.load(tmp_path / "other.pt")
