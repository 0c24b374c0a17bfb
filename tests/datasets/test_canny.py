"""Canny edges against expectations worked out by hand from the definition 3D-DST relies on.

OpenCV's Canny (aperture 3, L1): magnitude |gx| + |gy| of 3x3 Sobel derivatives (replicated
border), so a straight step of height h gives 4h on the two pixel columns beside it. Non-maximum
suppression keeps a pixel that is strictly greater than its neighbour on the lower-index side and
at least equal to the one on the other side, so of those two equal columns only the one before the
step survives. Hysteresis keeps pixels above ``high`` and those above ``low`` 8-connected to them.
"""

from __future__ import annotations

import numpy as np
import pytest

from partlift.datasets.canny import canny, to_uint8

N = 32


def vertical_step(h: int, at: int = 16, base: int = 0) -> np.ndarray:
    """Columns < ``at`` are ``base``, the others ``base + h``."""
    img = np.full((N, N), base, np.uint8)
    img[:, at:] = base + h
    return img


@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("rising", [True, False])
def test_a_step_gives_one_edge_line_on_its_lower_side(transpose, rising):
    img = vertical_step(100) if rising else 100 - vertical_step(100)
    want = np.zeros((N, N), bool)
    want[:, 15] = True  # columns 15 and 16 tie at 400; the strict comparison drops column 16
    if transpose:
        img, want = img.T.copy(), want.T
    got = canny(img)
    assert got.dtype == bool and got.shape == (N, N)
    assert np.array_equal(got, want), f"{int((got != want).sum())} pixels differ"


def test_diagonal_ties_are_suppressed_on_both_sides():
    # Beside a one-pixel diagonal line of 100 the two flanking pixels (i, i+1) and (i+1, i) both get
    # |gx| = |gy| = 200, magnitude 400, and face each other across the line. The diagonal comparison is
    # strict on both sides, so both are suppressed (a non-strict side would keep one of them).
    e = canny((np.eye(N) * 100).astype(np.uint8))
    i = np.arange(3, N - 4)
    assert not e[i, i + 1].any() and not e[i + 1, i].any()
    assert not e[i, i].any()  # on the line itself the gradient cancels


def test_the_high_threshold_is_strict_on_the_l1_sobel_scale():
    # magnitude 4 h: 200 is not above high = 200, 204 is
    assert not canny(vertical_step(50)).any()
    assert canny(vertical_step(51))[:, 15].all()
    assert canny(vertical_step(50), 100, 199)[:, 15].all()


def test_weak_edges_survive_only_when_connected_to_strong_ones():
    weak = vertical_step(40)  # magnitude 160: between low 100 and high 200
    assert not canny(weak).any()
    assert canny(weak, 100, 150)[:, 15].all()

    img = weak.copy()
    img[:, :5] = 40  # a second weak step, at column 4, far from anything strong
    img[:4, 16:] = 100  # makes the top of the column-15 edge strong
    e = canny(img)
    assert e[6:, 15].all(), "the weak part of column 15 is connected to its strong top"
    assert not e[:, :9].any(), "the isolated weak step is dropped"
    assert not e[6:, 16:].any() and not e[6:, 9:15].any()
    # swapped thresholds mean the same (OpenCV swaps them)
    assert np.array_equal(canny(img, 200, 100), e)


def test_a_flat_image_has_no_edges():
    assert not canny(np.full((N, N), 90, np.uint8)).any()
    assert not canny(np.zeros((N, N, 3), np.float32)).any()


def test_colour_images_use_the_strongest_channel_not_grey():
    # a blue-only step of 60 is an edge (4 x 60 = 240 > 200) although its BT.601 grey step (7) is not
    rgb = np.zeros((N, N, 3), np.uint8)
    rgb[:, 16:, 2] = 60
    want = np.zeros((N, N), bool)
    want[:, 15] = True
    assert np.array_equal(canny(rgb), want)
    # red +80 and green -41 keep the BT.601 grey at 100 (0.299 x 80 ~ 0.587 x 41): an edge all the same
    rgb = np.full((N, N, 3), 100, np.uint8)
    rgb[:, 16:, 0] = 180
    rgb[:, 16:, 1] = 59
    assert np.array_equal(canny(rgb), want)


def test_input_conversion():
    img = vertical_step(100)
    rgba = np.dstack([img, img, img, np.full_like(img, 7)])
    assert np.array_equal(canny(rgba), canny(img))  # alpha is ignored
    assert np.array_equal(canny(img.astype(np.float32) / 255.0), canny(img))
    assert np.array_equal(canny(img[..., None]), canny(img))
    assert to_uint8(np.array([[0.0, 0.5, 1.2]])).tolist() == [[0, 128, 255]]
    with pytest.raises(ValueError):
        canny(np.zeros((2, 3, 4, 5)))
