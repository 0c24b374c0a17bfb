"""Backgrounds: random crops of real photographs shipped by scikit-image, and procedural textures.

scikit-image bundles a few sample photographs in its wheel (no download): they are loaded once per
process. Grey-level photographs (brick, grass, gravel, ...) are tinted. When scikit-image is not
installed, only procedural backgrounds are used (value-noise clouds, gradients, stripes, checkers,
tiles).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from PIL import Image

from partlift.datasets.noise import fbm
from partlift.validation import bounded, validate_config

# scikit-image sample images that ship with the package (checked offline).
PHOTO_NAMES: tuple[str, ...] = (
    "astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "stereo_motorcycle", "immunohistochemistry",
    "camera", "moon", "coins", "brick", "grass", "gravel", "clock", "page", "text",
)
PROCEDURAL_KINDS: tuple[str, ...] = ("clouds", "gradient", "stripes", "checker", "tiles")


@dataclass(frozen=True)
class BackgroundConfig:
    """How backgrounds are drawn.

    Attributes:
        photo_prob: probability of a photograph crop (else a procedural texture); 0 if scikit-image
            is missing.
        min_crop: smallest crop side as a fraction of the photograph's shorter side.
        blur_prob: probability of blurring the background (a shallow depth of field).
        jitter: maximum brightness / contrast / saturation change (fraction).
    """

    photo_prob: float = bounded(0.7, ge=0, le=1)
    min_crop: float = bounded(0.25, gt=0, le=1)
    blur_prob: float = bounded(0.4, ge=0, le=1)
    jitter: float = bounded(0.25, ge=0, le=1)

    def __post_init__(self) -> None:
        validate_config(self)


@functools.lru_cache(maxsize=1)
def load_photos() -> tuple[tuple[np.ndarray, bool], ...]:
    """The available sample photographs: ((H, W, 3) uint8, is_grey) pairs (empty without scikit-image)."""
    try:
        import skimage.data as data
    except ImportError:
        return ()
    out = []
    for name in PHOTO_NAMES:
        fn = getattr(data, name, None)
        if fn is None:
            continue
        try:
            img = fn()
        except Exception:  # noqa: BLE001 - an image needing a download is skipped
            continue
        img = img[0] if isinstance(img, tuple) else img
        img = np.asarray(img)
        if img.dtype == bool:
            continue
        grey = img.ndim == 2
        if grey:
            img = np.repeat(img[:, :, None], 3, axis=2)
        out.append((np.ascontiguousarray(img[:, :, :3]).astype(np.uint8), grey))
    return tuple(out)


def _resize(img: np.ndarray, size: int) -> np.ndarray:
    return np.asarray(Image.fromarray(img).resize((size, size), Image.Resampling.BILINEAR))


def photo_background(rng: np.random.Generator, size: int, config: BackgroundConfig = BackgroundConfig()) -> np.ndarray:
    """A random square crop of a sample photograph, resized to ``size``: (size, size, 3) float32 in [0, 1]."""
    photos = load_photos()
    img, grey = photos[int(rng.integers(len(photos)))]
    h, w = img.shape[:2]
    side = int(min(h, w) * rng.uniform(config.min_crop, 1.0))
    side = max(side, 8)
    y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
    crop = img[y : y + side, x : x + side]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    out = _resize(np.ascontiguousarray(crop), size).astype(np.float32) / 255.0
    if grey:
        tint = rng.uniform(0.5, 1.0, 3).astype(np.float32)  # grey photograph: give it a colour cast
        out = out * tint / tint.max()
    return out


def procedural_background(rng: np.random.Generator, size: int, kind: str | None = None) -> np.ndarray:
    """A procedural texture: (size, size, 3) float32 in [0, 1]."""
    kind = kind or PROCEDURAL_KINDS[int(rng.integers(len(PROCEDURAL_KINDS)))]
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) / size
    c1, c2 = rng.uniform(0, 1, 3), rng.uniform(0, 1, 3)
    angle = rng.uniform(0, np.pi)
    u = np.cos(angle) * xx + np.sin(angle) * yy
    v = -np.sin(angle) * xx + np.cos(angle) * yy
    if kind == "clouds":
        pts = np.stack([xx.ravel(), yy.ravel()], 1) * rng.uniform(2.0, 8.0)
        t = 0.5 + 0.5 * fbm(pts, int(rng.integers(2**31)), octaves=5).reshape(size, size) * 1.6
    elif kind == "gradient":
        t = u - u.min()
        t = t / max(t.max(), 1e-9)
    elif kind == "stripes":
        t = 0.5 + 0.5 * np.sign(np.sin(2 * np.pi * u * rng.uniform(3, 12)))
    elif kind == "checker":
        f = rng.uniform(2, 10)
        t = ((np.floor(u * f) + np.floor(v * f)) % 2).astype(np.float64)
    elif kind == "tiles":
        f = rng.uniform(3, 10)
        gu, gv = (u * f) % 1.0, (v * f) % 1.0
        t = ((gu < 0.08) | (gv < 0.08)).astype(np.float64)
    else:
        raise ValueError(f"unknown procedural background {kind!r}; use one of {PROCEDURAL_KINDS}")
    t = np.clip(t, 0, 1)[:, :, None]
    img = (1 - t) * c1 + t * c2
    grain = fbm(np.stack([xx.ravel(), yy.ravel()], 1) * 40.0, int(rng.integers(2**31)), octaves=2)
    img *= (1.0 + 0.08 * grain.reshape(size, size))[:, :, None]
    return np.clip(img, 0, 1).astype(np.float32)


def sample_background(rng: np.random.Generator, size: int, config: BackgroundConfig = BackgroundConfig()) -> np.ndarray:
    """A photograph crop (probability ``photo_prob``, if available) or a procedural texture, jittered.

    Returns:
        (size, size, 3) float32 RGB in [0, 1].
    """
    use_photo = bool(load_photos()) and rng.random() < config.photo_prob
    img = photo_background(rng, size, config) if use_photo else procedural_background(rng, size)
    j = config.jitter
    mean = img.mean(axis=(0, 1), keepdims=True)
    grey = img.mean(axis=2, keepdims=True)
    img = grey + (img - grey) * rng.uniform(1 - j, 1 + j)  # saturation
    img = mean + (img - mean) * rng.uniform(1 - j, 1 + j)  # contrast
    img = img * rng.uniform(1 - j, 1 + j)  # brightness
    if rng.random() < config.blur_prob:
        from PIL import ImageFilter

        radius = float(rng.uniform(0.5, 2.0)) * size / 128.0
        pil = Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(radius))
        img = np.asarray(pil).astype(np.float32) / 255.0
    return np.clip(img, 0, 1).astype(np.float32)
