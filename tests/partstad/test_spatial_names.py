"""Parts named by side keep their side: mirrored training images swap left/right labels, and a
trained proposer and the lifted labels put ``leg_left`` on the object's left (+X)."""

from __future__ import annotations

import numpy as np
from fixtures import SIDED_PARTS, toy_sided_chair

from partlift.geometry.part_names import mirror_label_map
from partlift.geometry.pointcloud import PartPointCloud
from partlift.partstad.config import LearnedProposerConfig, PartSTADConfig, ProposerConfig, ViewConfig
from partlift.partstad.model import PartSTAD
from partlift.partstad.proposals.learned import LearnedProposer


def test_mirrored_batches_swap_left_and_right_labels():
    prop = LearnedProposer(SIDED_PARTS, LearnedProposerConfig(train_views=1), ViewConfig(image_size=32))
    rng = np.random.default_rng(0)
    pool = prop._render_pool([_source(toy_sided_chair(600, seed=1))], rng)
    perm = mirror_label_map(SIDED_PARTS)
    lut = np.concatenate([[0, 1], perm + 2])
    seen_flip = seen_plain = False
    for seed in range(6):
        idx = np.random.default_rng(seed).choice(len(pool[0]), size=4)
        x, cls, _ = prop._cpu_batch(pool, idx, np.random.default_rng(seed))
        flipped = x[:, 0:3].flip(-1)  # un-mirror the RGB to find which samples were mirrored
        for b, i in enumerate(idx):
            raw = pool[2][i].astype(np.int64)
            c = cls[b].numpy()
            if np.array_equal(c, raw):
                seen_plain = True
            else:  # mirrored: pixel j holds the mirrored label of pixel W-1-j
                np.testing.assert_array_equal(c, lut[raw][:, ::-1])
                seen_flip = True
        assert flipped.shape == x[:, 0:3].shape
    assert seen_flip and seen_plain


def test_a_taxonomy_without_counterparts_is_never_mirrored():
    names = ("seat", "back", "leg_left", "leg_rear")  # leg_left has no leg_right
    prop = LearnedProposer(names, LearnedProposerConfig(train_views=1), ViewConfig(image_size=32))
    pool = prop._render_pool([_source(toy_sided_chair(600, seed=1))], np.random.default_rng(0))
    for seed in range(4):
        idx = np.arange(len(pool[0]))
        _, cls, _ = prop._cpu_batch(pool, idx, np.random.default_rng(seed))
        np.testing.assert_array_equal(cls.numpy(), pool[2][idx].astype(np.int64))


def _source(cloud):
    from partlift.partstad.proposals.learned import _Source

    return _Source(cloud)


def test_trained_proposer_and_lifted_labels_keep_the_sides():
    """Without the left/right swap of mirrored labels the proposer cannot learn the sides (about half
    of its leg pixels land on the wrong side, and the lifted legs all get one side's label)."""
    from partlift.partstad.model import PartSTAD

    shapes = [toy_sided_chair(2000, seed=s, name=f"c{s}") for s in range(6)]
    cfg = PartSTADConfig(views=ViewConfig(image_size=64), proposer=ProposerConfig(kind="learned"),
                         learned=LearnedProposerConfig(steps=500, train_views=16), weights="none")
    model = PartSTAD(cfg).fit(shapes[:4], shapes[4:5])
    test = shapes[5]
    ps = model.prepare(test, keep_images=True)
    probs, _, _, _ = model.proposer.predict_maps(ps.views.image, model.proposer.view_geometry(ps.views, test))
    pix = ps.views.point_index
    gt = np.where(pix >= 0, test.labels[np.maximum(pix, 0)], -1)
    guess = probs.argmax(1) - 2  # classes: 0 background, 1 unlabelled, part k at k + 2
    legs = (gt >= 2) & (guess >= 2)
    assert legs.sum() > 500 and (guess[legs] == gt[legs]).mean() > 0.85
    pred = model.predict(test).semantic
    lifted = (test.labels >= 2) & (pred >= 2)
    assert lifted.sum() > 0.5 * (test.labels >= 2).sum()
    assert (pred[lifted] == test.labels[lifted]).mean() > 0.9


def _wheel_pixel_accuracy(frame_channels: str) -> tuple[float, PartSTAD, PartPointCloud]:
    from fixtures import toy_cart

    from partlift.partstad.model import PartSTAD

    shapes = [toy_cart(2000, seed=s, name=f"c{s}") for s in range(6)]
    cfg = PartSTADConfig(views=ViewConfig(image_size=64), proposer=ProposerConfig(kind="learned"),
                         learned=LearnedProposerConfig(steps=400, train_views=16, frame_channels=frame_channels),
                         weights="none")
    model = PartSTAD(cfg).fit(shapes[:4], shapes[4:5])
    test = shapes[5]
    ps = model.prepare(test, keep_images=True)
    probs, _, _, _ = model.proposer.predict_maps(ps.views.image, model.proposer.view_geometry(ps.views, test))
    pix = ps.views.point_index
    gt = np.where(pix >= 0, test.labels[np.maximum(pix, 0)], -1)
    guess = probs.argmax(1) - 2
    wheels = (gt >= 1) & (guess >= 1)
    return float((guess[wheels] == gt[wheels]).mean()), model, test


def test_symmetric_cart_keeps_its_sides_only_with_the_object_frame():
    """A cart that looks the same turned round or mirrored: its wheels' sides are only in the object
    frame. Without the frame channels (the proposer before them) the network cannot tell the four
    wheels apart and the lifted wheels swap sides; with them both keep their sides."""
    from fixtures import CART_PARTS

    assert LearnedProposerConfig().uses_frame(CART_PARTS)  # "auto": the names carry sides
    assert not LearnedProposerConfig().uses_frame(("seat", "back", "leg"))
    blind, _, _ = _wheel_pixel_accuracy("off")
    assert blind < 0.6
    seen, model, test = _wheel_pixel_accuracy("auto")
    assert seen > 0.9
    pred = model.predict(test).semantic
    wheels = (test.labels >= 1) & (pred >= 1)
    assert wheels.sum() > 0.5 * (test.labels >= 1).sum()
    assert (pred[wheels] == test.labels[wheels]).mean() > 0.9
