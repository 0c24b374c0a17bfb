"""Small raster figures for reports: part masks over images, projected 3D boxes, point-owner maps.

All images are (H, W, 3) uint8 RGB; masks and label maps are (H, W) int with -1 = background /
no part. Colours come from :func:`partlift.render.shading.part_palette` so a part has the same
colour in every figure of a report.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from partlift.geometry.atomic import atomic_write_bytes
from partlift.geometry.boxes import Box3D

# Corner pairs of a box's 12 edges for Box3D.corners() ordering (bit i of the index = sign along axis i).
_BOX_EDGES = tuple((a, a | (1 << k)) for a in range(8) for k in range(3) if not a & (1 << k))


def palette(n: int) -> np.ndarray:
    """(n, 3) uint8 part colours (the renderer's palette)."""
    from partlift.render.shading import part_palette

    return part_palette(max(int(n), 0))


def colorize_labels(labels: np.ndarray, num_parts: int, background=(255, 255, 255),
                    unlabelled=(200, 200, 200)) -> np.ndarray:
    """(H, W) int label map -> (H, W, 3) uint8; -1 = ``background``, labels >= num_parts = ``unlabelled``."""
    lab = np.asarray(labels)
    out = np.empty(lab.shape + (3,), np.uint8)
    out[...] = background
    pal = palette(num_parts)
    ok = (lab >= 0) & (lab < num_parts)
    out[ok] = pal[lab[ok]]
    out[lab >= num_parts] = unlabelled
    return out


def overlay_labels(image: np.ndarray, labels: np.ndarray, num_parts: int, alpha: float = 0.6) -> np.ndarray:
    """Blend part colours over ``image`` where ``labels >= 0``; the rest is dimmed towards white."""
    img = np.asarray(image, np.float32)
    lab = np.asarray(labels)
    if lab.shape != img.shape[:2]:
        raise ValueError(f"label map {lab.shape} does not match image {img.shape[:2]}")
    col = colorize_labels(lab, num_parts).astype(np.float32)
    fg = lab >= 0
    out = img * 0.55 + 255 * 0.45
    out[fg] = img[fg] * (1 - alpha) + col[fg] * alpha
    return out.clip(0, 255).astype(np.uint8)


def owner_label_image(point_index: np.ndarray, point_labels: np.ndarray, num_parts: int,
                      unlabelled=(170, 170, 170)) -> np.ndarray:
    """Colour a splatted view by the label of the point owning each pixel.

    point_index: (H, W) int, -1 = background; point_labels: (N,) int, -1 = no part (drawn ``unlabelled``).
    """
    idx = np.asarray(point_index)
    lab = np.full(idx.shape, -2, np.int64)
    fg = idx >= 0
    lab[fg] = np.asarray(point_labels, np.int64)[idx[fg]]
    out = colorize_labels(np.where(lab == -1, num_parts, lab).clip(-1, None), num_parts, unlabelled=unlabelled)
    out[lab == -2] = 255
    return out


def draw_proposals(image: np.ndarray, masks: np.ndarray, boxes: np.ndarray, labels: np.ndarray,
                   scores: np.ndarray, num_parts: int, scale: int = 1) -> np.ndarray:
    """2D part proposals of one view: masks blended in their part colour, boxes outlined.

    masks: (P, H, W) bool; boxes: (P, 4) (x1, y1, x2, y2) pixels; labels: (P,) int; scores: (P,) in [0, 1].
    Higher-scoring proposals are drawn last (on top).
    """
    img = np.asarray(image, np.float32) * 0.5 + 127.5
    pal = palette(num_parts).astype(np.float32)
    order = np.argsort(np.asarray(scores), kind="stable")
    for p in order:
        m = np.asarray(masks[p], bool)
        img[m] = img[m] * 0.45 + pal[labels[p]] * 0.55
    out = upscale(img.clip(0, 255).astype(np.uint8), scale)
    pil = Image.fromarray(out)
    draw = ImageDraw.Draw(pil)
    for p in order:
        x1, y1, x2, y2 = (np.asarray(boxes[p], np.float64) * scale).tolist()
        draw.rectangle([x1, y1, max(x1, x2 - 1), max(y1, y2 - 1)], outline=tuple(int(c) for c in pal[labels[p]]),
                       width=max(1, scale // 2))
    return np.asarray(pil)


def project_camera_points(points: np.ndarray, K: np.ndarray) -> np.ndarray:  # noqa: N803 - intrinsic matrix
    """(M, 3) camera-frame points (OpenCV, z forward) -> (M, 2) pixel (u, v); z is clipped at 1e-6."""
    p = np.asarray(points, np.float64)
    z = np.maximum(p[:, 2], 1e-6)
    return np.stack([K[0, 0] * p[:, 0] / z + K[0, 2], K[1, 1] * p[:, 1] / z + K[1, 2]], 1)


def draw_boxes(image: np.ndarray, boxes: Sequence[Box3D | None], K: np.ndarray,  # noqa: N803
               colors: np.ndarray, scale: int = 1, dim: bool = True) -> np.ndarray:
    """Camera-frame oriented 3D boxes projected with intrinsics ``K`` and drawn as wireframes."""
    img = np.asarray(image, np.float32)
    if dim:
        img = img * 0.6 + 255 * 0.4
    pil = Image.fromarray(upscale(img.clip(0, 255).astype(np.uint8), scale))
    draw = ImageDraw.Draw(pil)
    for box, col in zip(boxes, colors, strict=True):
        if box is None:
            continue
        uv = project_camera_points(box.corners(), K) * scale
        for a, b in _BOX_EDGES:
            draw.line([tuple(uv[a]), tuple(uv[b])], fill=tuple(int(c) for c in col), width=max(1, scale // 2 + 1))
    return np.asarray(pil)


def detection_figure(image: np.ndarray, mask: np.ndarray, boxes: Sequence[Box3D | None], K: np.ndarray,  # noqa: N803
                     image_size: tuple[int, int], num_parts: int) -> np.ndarray:
    """A Part321 detection over its input: the 2D part ``mask`` (h, w) int blended in part colours and
    the camera-frame part ``boxes`` projected with ``K``, whose image is ``image_size`` (height, width);
    mask and intrinsics are scaled to the input's size when it differs."""
    img = np.asarray(image)[..., :3]
    h, w = img.shape[:2]
    m = np.asarray(mask)
    if m.shape != (h, w):
        m = np.asarray(Image.fromarray(m.astype(np.int32)).resize((w, h), Image.Resampling.NEAREST))
    sx, sy = w / image_size[1], h / image_size[0]
    k = np.asarray(K, np.float64) * np.array([[sx], [sy], [1.0]])
    return draw_boxes(overlay_labels(img, m, num_parts), boxes, k, palette(num_parts), dim=False)


def view_mosaic(images: Sequence[np.ndarray], rows: int = 2) -> np.ndarray:
    """Equal-size (H, W, 3) uint8 views tiled row-major on ``rows`` rows, white where a row runs short."""
    imgs = [np.asarray(i) for i in images]
    cols = -(-len(imgs) // rows)
    blank = np.full_like(imgs[0], 255)
    imgs += [blank] * (rows * cols - len(imgs))
    return np.concatenate([np.concatenate(imgs[r * cols:(r + 1) * cols], 1) for r in range(rows)], 0)


def with_legend(image: np.ndarray, entries: Sequence[tuple[str, Sequence[int]]]) -> np.ndarray:
    """``image`` (H, W, 3) uint8 with a legend below it: a colour swatch and the name of each entry
    (name, (r, g, b) 0-255), laid out left to right and wrapped to the image's width."""
    img = np.asarray(image, np.uint8)
    w = img.shape[1]
    sw, pad, line = 12, 6, 18
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    widths = [sw + 4 + int(probe.textlength(str(name))) + 2 * pad for name, _ in entries]
    rows, x = 1, 0
    for ew in widths:
        if x and x + ew > w:
            rows, x = rows + 1, 0
        x += ew
    pil = Image.new("RGB", (w, rows * line + 2 * pad), (255, 255, 255))
    draw = ImageDraw.Draw(pil)
    x, y = pad, pad
    for (name, colour), ew in zip(entries, widths, strict=True):
        if x > pad and x + ew > w:
            x, y = pad, y + line
        draw.rectangle([x, y + 2, x + sw, y + 2 + sw], fill=tuple(int(c) for c in colour[:3]), outline=(60, 60, 60))
        draw.text((x + sw + 4, y + 2), str(name), fill=(20, 20, 20))
        x += ew
    return np.concatenate([img, np.asarray(pil)], 0)


def upscale(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement by an integer factor (keeps label edges crisp)."""
    if factor <= 1:
        return np.asarray(image)
    return np.repeat(np.repeat(np.asarray(image), factor, 0), factor, 1)


def save_png(path: str | os.PathLike, image: np.ndarray) -> Path:
    """Write an RGB image atomically; returns the path."""
    buf = io.BytesIO()
    Image.fromarray(np.asarray(image, np.uint8)).save(buf, format="PNG")
    return atomic_write_bytes(path, buf.getvalue())
