"""Canny edge maps with OpenCV's semantics, so 3D-DST's thresholds (100, 200) mean the same here.

3D-DST calls ``cv2.Canny(img, 100, 200)`` (docs/REFERENCES.md). OpenCV's Canny does *no*
Gaussian pre-smoothing; it takes 3x3 Sobel derivatives of the 8-bit image (replicated border), the
L1 magnitude ``|gx| + |gy|``, non-maximum suppression along the gradient direction quantised to
0/45/90/135 degrees (tan 22.5 deg sectors; a pixel must be > its neighbour on one side and >= on
the other), and hysteresis: pixels above ``high`` are edges, pixels above ``low`` are edges when
8-connected to an edge through such pixels. Thresholds are therefore in units of the L1 Sobel
magnitude of 0-255 intensities, which is why ``skimage.feature.canny`` (Gaussian smoothing,
L2 magnitude of float images) needs different numbers; we implement OpenCV's variant directly.
Colour images are converted to grey with BT.601 weights (OpenCV's ``COLOR_RGB2GRAY``).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

TAN_22_5 = np.tan(np.radians(22.5))
TAN_67_5 = np.tan(np.radians(67.5))


def to_gray(image: np.ndarray) -> np.ndarray:
    """(H, W) or (H, W, 3) image -> (H, W) float64 grey in 0..255 (BT.601, rounded like OpenCV)."""
    img = np.asarray(image)
    if img.dtype != np.uint8:
        img = np.clip(np.round(np.asarray(img, dtype=np.float64) * 255.0), 0, 255)
    img = img.astype(np.float64)
    if img.ndim == 3:
        img = np.round(img[..., 0] * 0.299 + img[..., 1] * 0.587 + img[..., 2] * 0.114)
    return img


def sobel(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """3x3 Sobel derivatives (gx along columns, gy along rows) with a replicated border."""
    g = np.pad(np.asarray(gray, dtype=np.float64), 1, mode="edge")
    gx = (g[:-2, 2:] + 2 * g[1:-1, 2:] + g[2:, 2:]) - (g[:-2, :-2] + 2 * g[1:-1, :-2] + g[2:, :-2])
    gy = (g[2:, :-2] + 2 * g[2:, 1:-1] + g[2:, 2:]) - (g[:-2, :-2] + 2 * g[:-2, 1:-1] + g[:-2, 2:])
    return gx, gy


def non_maximum_suppression(gx: np.ndarray, gy: np.ndarray, low: float) -> np.ndarray:
    """(H, W) float64 L1 magnitude where it is a local maximum across the edge and > ``low``, else 0."""
    mag = np.abs(gx) + np.abs(gy)
    h, w = mag.shape
    m = np.pad(mag, 1)  # zero border: outside pixels never suppress
    c = m[1:-1, 1:-1]
    ax, ay = np.abs(gx), np.abs(gy)
    horizontal = ay <= TAN_22_5 * ax  # gradient along x: compare left / right
    vertical = ay > TAN_67_5 * ax  # gradient along y: compare up / down
    diagonal = ~horizontal & ~vertical
    same_sign = (gx * gy) > 0  # gradient towards (+x, +y): compare (i-1, j-1) and (i+1, j+1)

    def nb(di: int, dj: int) -> np.ndarray:
        return m[1 + di : 1 + di + h, 1 + dj : 1 + dj + w]

    keep = np.zeros_like(mag, dtype=bool)
    keep |= horizontal & (c > nb(0, -1)) & (c >= nb(0, 1))
    keep |= vertical & (c > nb(-1, 0)) & (c >= nb(1, 0))
    keep |= diagonal & same_sign & (c > nb(-1, -1)) & (c >= nb(1, 1))
    keep |= diagonal & ~same_sign & (c > nb(-1, 1)) & (c >= nb(1, -1))
    return np.where(keep & (mag > low), mag, 0.0)


def hysteresis(candidates: np.ndarray, high: float) -> np.ndarray:
    """Keep the 8-connected components of ``candidates > 0`` that contain a value > ``high``."""
    lab, n = ndimage.label(candidates > 0, structure=np.ones((3, 3), dtype=bool))
    if n == 0:
        return np.zeros(candidates.shape, dtype=bool)
    strong = np.zeros(n + 1, dtype=bool)
    strong[np.unique(lab[candidates > high])] = True
    strong[0] = False
    return strong[lab]


def canny(image: np.ndarray, low: float = 100.0, high: float = 200.0) -> np.ndarray:
    """OpenCV-style Canny edges of an 8-bit (or [0, 1] float) grey or RGB image.

    Args:
        image: (H, W) or (H, W, 3), uint8 0..255 or float in [0, 1].
        low, high: hysteresis thresholds on the L1 Sobel magnitude (OpenCV's scale).

    Returns:
        (H, W) bool edge map.
    """
    if low > high:
        low, high = high, low
    gx, gy = sobel(to_gray(image))
    return hysteresis(non_maximum_suppression(gx, gy, low), high)
