"""Figures drawn for reports and the CLI: label colours, mosaics, detection overlays."""

import numpy as np

from partlift.geometry.boxes import Box3D
from partlift.render.shading import label_colors, part_palette
from partlift.report.figures import detection_figure, view_mosaic


def test_label_colors_use_the_palette_and_grey_for_unlabelled():
    lab = np.array([0, 2, -1, 1])
    got = label_colors(lab, 3)
    pal = np.asarray(part_palette(3), np.float32) / 255.0
    assert np.allclose(got[[0, 1, 3]], pal[[0, 2, 1]], atol=1e-6)
    assert np.allclose(got[2], 0.75)


def test_view_mosaic_tiles_row_major_and_pads_with_white():
    views = [np.full((2, 3, 3), k, np.uint8) for k in range(5)]
    m = view_mosaic(views, rows=2)
    assert m.shape == (4, 9, 3)
    assert (m[0, 0] == 0).all() and (m[0, 3] == 1).all() and (m[0, 6] == 2).all()
    assert (m[2, 0] == 3).all() and (m[2, 3] == 4).all() and (m[2, 6] == 255).all()


def test_detection_figure_scales_mask_and_intrinsics_to_the_input():
    # camera image 32x32; the input photo is 64x64, so the mask and the projection scale by 2
    K = np.array([[40.0, 0, 16], [0, 40.0, 16], [0, 0, 1]])
    image = np.full((64, 64, 3), 100, np.uint8)
    mask = np.full((32, 32), -1)
    mask[4:8, 4:8] = 0
    # a box whose corner (x, y, z) = (0.2, 0.2, 2) projects to (20, 20) in the camera image, (40, 40) here
    box = Box3D(center=np.array([0.1, 0.1, 2.5]), size=np.array([0.2, 0.2, 1.0]), rotation=np.eye(3))
    out = detection_figure(image, mask, [None, box], K, (32, 32), 2)
    pal = part_palette(2)
    assert (out[8:16, 8:16] != 100).all()  # the mask, upscaled 2x, is blended
    assert (out[55:60, 2:8] == int(100 * 0.55 + 255 * 0.45)).all()  # no mask, no box: dimmed towards white
    assert (out[40, 40] == pal[1]).all()  # a box corner, drawn in its part's colour


def test_legend_shows_every_colour_below_the_image_and_wraps():
    from partlift.report.figures import with_legend

    img = np.zeros((40, 120, 3), np.uint8)
    entries = [(f"part_{k}", tuple(int(c) for c in part_palette(6)[k])) for k in range(6)]
    out = with_legend(img, entries)
    assert out.shape[1] == 120 and out.shape[0] > 40 + 18  # wrapped onto more than one row
    np.testing.assert_array_equal(out[:40], img)
    strip = out[40:].reshape(-1, 3)
    for _, colour in entries:  # every swatch is drawn in its exact colour
        assert (strip == np.array(colour, np.uint8)).all(1).sum() >= 60
