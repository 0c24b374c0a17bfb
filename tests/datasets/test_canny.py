"""OpenCV-style Canny against a per-pixel loop reference, and on simple shapes."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest

from partlift.datasets.canny import canny, to_gray


def _ref_canny(gray: np.ndarray, low: float, high: float) -> np.ndarray:
    """Straightforward loops: Sobel (replicated border), L1 magnitude, 4-sector NMS, BFS hysteresis."""
    h, w = gray.shape
    g = gray.astype(np.float64)

    def px(i, j):
        return g[min(max(i, 0), h - 1), min(max(j, 0), w - 1)]

    gx = np.zeros((h, w))
    gy = np.zeros((h, w))
    kx = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
    for i in range(h):
        for j in range(w):
            sx = sy = 0.0
            for a in range(3):
                for b in range(3):
                    v = px(i + a - 1, j + b - 1)
                    sx += kx[a][b] * v
                    sy += kx[b][a] * v
            gx[i, j], gy[i, j] = sx, sy
    mag = np.abs(gx) + np.abs(gy)

    def m(i, j):
        return mag[i, j] if 0 <= i < h and 0 <= j < w else 0.0

    t22, t67 = np.tan(np.radians(22.5)), np.tan(np.radians(67.5))
    cand = np.zeros((h, w), dtype=bool)
    for i in range(h):
        for j in range(w):
            c = mag[i, j]
            if c <= low:
                continue
            ax, ay = abs(gx[i, j]), abs(gy[i, j])
            if ay <= t22 * ax:
                ok = c > m(i, j - 1) and c >= m(i, j + 1)
            elif ay > t67 * ax:
                ok = c > m(i - 1, j) and c >= m(i + 1, j)
            elif gx[i, j] * gy[i, j] > 0:
                ok = c > m(i - 1, j - 1) and c >= m(i + 1, j + 1)
            else:
                ok = c > m(i - 1, j + 1) and c >= m(i + 1, j - 1)
            cand[i, j] = ok
    edges = np.zeros((h, w), dtype=bool)
    queue = deque((i, j) for i in range(h) for j in range(w) if cand[i, j] and mag[i, j] > high)
    for i, j in queue:
        edges[i, j] = True
    while queue:
        i, j = queue.popleft()
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                a, b = i + di, j + dj
                if 0 <= a < h and 0 <= b < w and cand[a, b] and not edges[a, b]:
                    edges[a, b] = True
                    queue.append((a, b))
    return edges


def _test_images():
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:40, 0:48]
    disc = ((yy - 20) ** 2 + (xx - 22) ** 2 < 150).astype(float) * 180 + 20
    smooth = np.cumsum(np.cumsum(rng.normal(size=(40, 48)), 0), 1)
    smooth = (smooth - smooth.min()) / np.ptp(smooth) * 255
    noisy = np.clip(disc + rng.normal(0, 25, disc.shape), 0, 255)
    return {"disc": disc, "smooth": smooth, "noisy": noisy}


@pytest.mark.parametrize("name", ["disc", "smooth", "noisy"])
@pytest.mark.parametrize("thresholds", [(100, 200), (30, 90)])
def test_canny_matches_loop_reference(name, thresholds):
    img = np.round(_test_images()[name]).astype(np.uint8)
    got = canny(img, *thresholds)
    want = _ref_canny(img.astype(float), *thresholds)
    assert got.dtype == bool and got.shape == img.shape
    assert np.array_equal(got, want), f"{name}: {int((got != want).sum())} pixels differ"


def test_rectangle_edges_and_flat_image():
    img = np.zeros((64, 64), np.uint8)
    img[20:44, 10:50] = 200
    e = canny(img)
    rows, cols = np.nonzero(e)
    # every edge pixel lies within one pixel of the rectangle's boundary, and the boundary is covered
    near = (np.minimum.reduce([np.abs(rows - 19.5), np.abs(rows - 43.5), np.abs(cols - 9.5), np.abs(cols - 49.5)]) <= 1)
    assert near.all()
    assert e[19:21, 12:48].any(axis=0).all() and e[22:42, 9:11].any(axis=1).all()
    assert not canny(np.full((32, 32), 90, np.uint8)).any()


def test_gray_conversion_uses_bt601():
    rgb = np.zeros((1, 3, 3), np.uint8)
    rgb[0, 0] = (255, 0, 0)
    rgb[0, 1] = (0, 255, 0)
    rgb[0, 2] = (0, 0, 255)
    assert np.array_equal(to_gray(rgb)[0], np.round([255 * 0.299, 255 * 0.587, 255 * 0.114]))
