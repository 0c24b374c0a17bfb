"""Canny edge maps computed as 3D-DST computes its ControlNet conditions: with OpenCV itself.

3D-DST reads each render as RGB (alpha dropped) and calls ``cv2.Canny(image, 100, 200)``: aperture
3, L1 gradient magnitude, no Gaussian pre-smoothing (sources: docs/REFERENCES.md). Calling OpenCV
rather than re-implementing it keeps every tie-break of its non-maximum suppression and hysteresis,
so the thresholds mean exactly what they mean there. Two consequences worth knowing:

- thresholds are on ``|gx| + |gy|`` of 3x3 Sobel derivatives of 0-255 intensities, so they are not
  interchangeable with ``skimage.feature.canny``'s (smoothed, L2, float images);
- a colour image is not converted to grey: per pixel OpenCV uses the channel with the largest
  gradient magnitude, so an edge between two colours of equal brightness is still found.
"""

from __future__ import annotations

import cv2
import numpy as np

APERTURE_SIZE = 3
L2_GRADIENT = False


def to_uint8(image: np.ndarray) -> np.ndarray:
    """(H, W), (H, W, 1), (H, W, 3) or (H, W, 4) image -> C-contiguous uint8 grey or RGB.

    Float images are taken as [0, 1] and rounded to 0..255; an alpha channel is dropped.
    """
    img = np.asarray(image)
    if img.ndim == 3 and img.shape[2] in (1, 3, 4):
        img = img[..., 0] if img.shape[2] == 1 else img[..., :3]
    elif img.ndim != 2:
        raise ValueError(f"expected an (H, W) or (H, W, 1|3|4) image, got shape {img.shape}")
    if img.dtype != np.uint8:
        img = np.clip(np.round(np.asarray(img, dtype=np.float64) * 255.0), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(img)


def canny(image: np.ndarray, low: float = 100.0, high: float = 200.0) -> np.ndarray:
    """OpenCV Canny edges (3D-DST's call) of an 8-bit (or [0, 1] float) grey or RGB image.

    Args:
        image: (H, W) or (H, W, 3) (a 4th, alpha, channel is ignored), uint8 0..255 or float in [0, 1].
        low, high: hysteresis thresholds on the L1 Sobel magnitude (OpenCV's scale; swapped if
            ``low > high``, as OpenCV does).

    Returns:
        (H, W) bool edge map.
    """
    if low > high:
        low, high = high, low
    edges = cv2.Canny(to_uint8(image), float(low), float(high), apertureSize=APERTURE_SIZE, L2gradient=L2_GRADIENT)
    return edges > 0
