"""`oracle` and `noisy-oracle` proposals against masks rebuilt pixel by pixel, and the noise rates."""

from __future__ import annotations

import numpy as np
import pytest
from fixtures import project_views, toy_table

from partlift.errors import LabelMismatchError
from partlift.geometry.pointcloud import PartPointCloud
from partlift.partstad.config import NoiseConfig, ViewConfig
from partlift.partstad.proposals.base import mask_box
from partlift.partstad.proposals.oracle import OracleProposer

VIEWS = ViewConfig(image_size=40)


@pytest.fixture(scope="module")
def scenes():
    """A few toy tables with their (reference z-buffer) views."""
    out = []
    for s in range(4):
        cloud = toy_table(500, seed=s, name=f"t{s}")
        out.append((cloud, project_views(cloud.points, cloud.colors, VIEWS)))
    return out


def reference_masks(cloud: PartPointCloud, views, min_area: int) -> list[tuple[int, int, np.ndarray]]:
    """(view, label, mask) per view and ground-truth instance, pixel by pixel."""
    out = []
    for v in range(views.num_views):
        idx = views.point_index[v]
        found: dict[int, np.ndarray] = {}
        for r in range(idx.shape[0]):
            for c in range(idx.shape[1]):
                p = idx[r, c]
                if p >= 0 and cloud.labels[p] >= 0:
                    found.setdefault(int(cloud.instances[p]), np.zeros(idx.shape, bool))[r, c] = True
        for inst in sorted(found):
            m = found[inst]
            if m.sum() >= min_area:
                label = int(cloud.labels[cloud.instances == inst][0])
                out.append((v, label, m))
    return out


def test_oracle_masks_are_the_ground_truth_instances(scenes):
    for cloud, views in scenes:
        props = OracleProposer(2, min_area_px=3).propose(views, cloud)
        ref = reference_masks(cloud, views, 3)
        assert len(props) == len(ref) > 0
        got = sorted((int(v), int(lab), m.tobytes()) for v, lab, m in zip(props.view, props.label, props.masks,
                                                                        strict=True))
        assert got == sorted((v, lab, m.tobytes()) for v, lab, m in ref)
        for m, b in zip(props.masks, props.box, strict=True):
            rows, cols = np.nonzero(m)
            assert tuple(b) == (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)  # tight pixel-edge box
        assert np.all(props.score == 1.0)
        assert props.features.shape == (len(props), 2 + 6)


def _drop_and_swap_counts(scenes, noise: NoiseConfig, seeds=range(6)) -> tuple[int, int, int]:
    """Pooled over shapes and seeds (no false positives, no jitter): true instances, kept ones, swapped labels."""
    n_true = n_kept = n_swapped = 0
    for seed in seeds:
        for cloud, views in scenes:
            ref = {(v, m.tobytes()): lab for v, lab, m in reference_masks(cloud, views, 4)}
            props = OracleProposer(2, noise, 4, seed).propose(views, cloud)
            n_true += len(ref)
            for v, lab, m in zip(props.view, props.label, props.masks, strict=True):
                true_label = ref[(int(v), m.tobytes())]  # every proposal is one of the true masks
                n_kept += 1
                n_swapped += int(lab != true_label)
    return n_true, n_kept, n_swapped


def _within(observed: int, n: int, p: float, sigmas: float = 4.0) -> bool:
    return abs(observed - n * p) <= sigmas * np.sqrt(n * p * (1 - p)) + 1


def test_drop_and_label_swap_rates(scenes):
    noise = NoiseConfig(drop_rate=0.3, false_positive_rate=0.0, label_swap_rate=0.25, box_jitter=0.0)
    n_true, n_kept, n_swapped = _drop_and_swap_counts(scenes, noise)
    assert _within(n_kept, n_true, 0.7), (n_kept, n_true)
    assert _within(n_swapped, n_kept, 0.25), (n_swapped, n_kept)


def test_false_positives_are_object_pixels_at_the_configured_rate(scenes):
    noise = NoiseConfig(drop_rate=0.0, false_positive_rate=0.5, label_swap_rate=0.0, box_jitter=0.0)
    n_true = n_fp = 0
    for seed in range(6):
        for cloud, views in scenes:
            ref = reference_masks(cloud, views, 4)
            props = OracleProposer(2, noise, 4, seed).propose(views, cloud)
            n_true += len(ref)
            n_fp += len(props) - len(ref)
            fg = views.point_index >= 0
            for v, m, b in zip(props.view, props.masks, props.box, strict=True):
                assert not (m & ~fg[v]).any()  # spurious blobs are made of object pixels
                assert tuple(b) == tuple(mask_box(m))
    # Poisson(0.5 per true proposal) summed per view; a blob can fail to reach min_area, so allow loss
    assert 0.3 * n_true <= n_fp <= 0.5 * n_true + 4 * np.sqrt(0.5 * n_true), (n_fp, n_true)


def test_box_jitter_cuts_masks_to_the_box(scenes):
    noise = NoiseConfig(drop_rate=0.0, false_positive_rate=0.0, label_swap_rate=0.0, box_jitter=0.3)
    cloud, views = scenes[0]
    ref = reference_masks(cloud, views, 4)
    props = OracleProposer(2, noise, 4, 0).propose(views, cloud)
    moved = 0
    for v, m, b in zip(props.view, props.masks, props.box, strict=True):
        rows, cols = np.nonzero(m)
        centres_x, centres_y = cols + 0.5, rows + 0.5  # pixel centres strictly inside the box
        assert centres_x.min() > b[0] and centres_x.max() < b[2] and centres_y.min() > b[1] and centres_y.max() < b[3]
        assert any(rv == v and not (m & ~rm).any() for rv, _, rm in ref)  # a subset of a true mask
        moved += not np.allclose(b, mask_box(m))
    assert moved > len(props) // 2


def test_noise_is_seeded(scenes):
    cloud, views = scenes[1]
    a, b, c = (OracleProposer(2, NoiseConfig(), 4, s).propose(views, cloud) for s in (7, 7, 8))
    assert np.array_equal(a.masks, b.masks) and np.array_equal(a.label, b.label) and np.array_equal(a.box, b.box)
    assert not (len(a) == len(c) and np.array_equal(a.masks, c.masks))


def test_an_unlabelled_cloud_is_refused(scenes):
    cloud, views = scenes[0]
    bare = PartPointCloud(cloud.points, colors=cloud.colors, part_names=cloud.part_names, name="scan")
    with pytest.raises(LabelMismatchError, match="'scan' has none"):
        OracleProposer(2).propose(views, bare)
