"""The learned proposer: training renders, geometry channels, components, features, persistence."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from fixtures import toy_table

from helpers import assert_close
from partlift.partstad.config import LearnedProposerConfig, ViewConfig
from partlift.partstad.normals import estimate_normals
from partlift.partstad.proposals.learned import (
    LearnedProposer,
    _Source,
    geometry_channels,
    instance_boundaries,
    render_training_view,
)
from partlift.partstad.views import render_views
from partlift.render.camera import Camera


def test_instance_boundaries_reference():
    rng = np.random.default_rng(0)
    inst = rng.integers(-1, 3, (9, 7))
    got = instance_boundaries(inst)
    ref = np.zeros_like(got)
    for i in range(9):
        for j in range(7):
            if inst[i, j] < 0:
                continue
            for di, dj in ((0, 1), (1, 0), (0, -1), (-1, 0)):
                a, b = i + di, j + dj
                if 0 <= a < 9 and 0 <= b < 7 and inst[a, b] >= 0 and inst[a, b] != inst[i, j]:
                    ref[i, j] = True
    assert (got == ref).all()


def test_geometry_channels_reference():
    rng = np.random.default_rng(1)
    pts = rng.normal(size=(20, 3)) * 0.3
    nrm = rng.normal(size=(20, 3))
    nrm /= np.linalg.norm(nrm, axis=1, keepdims=True)
    cam = Camera.look_at(azimuth=30, elevation=20, distance=2.2, width=6, height=5, degrees=True)
    idx = rng.integers(-1, 20, (5, 6))
    got = geometry_channels(idx, cam, pts, nrm)
    for i in range(5):
        for j in range(6):
            k = idx[i, j]
            if k < 0:
                assert (got[i, j] == 0).all()
                continue
            pc = cam.rotation @ pts[k] + cam.translation
            n = cam.rotation @ nrm[k]
            if n @ pc > 0:
                n = -n
            assert_close(got[i, j, :3], n, atol=1e-6)
            assert_close(got[i, j, 3], np.clip(pc[2] - 2.2, -1.5, 1.5), atol=1e-6)
            assert got[i, j, 4] == 1


def test_training_render_labels_follow_the_pixel_owners():
    cloud = toy_table(600)
    src = _Source(cloud)
    cfg = ViewConfig(image_size=48)
    rng = np.random.default_rng(0)
    for _ in range(4):
        img, geo, cls, bnd = render_training_view(src, rng, cfg, cfg.views)
        assert img.shape == (48, 48, 3) and geo.shape == (48, 48, 5) and cls.shape == (48, 48)
        fg = geo[..., 4] > 0
        assert ((cls > 0) == fg).all(), "foreground = covered pixels"
        assert set(np.unique(cls[fg])) <= {2, 3}, "toy table: every point has a part"
        assert not bnd[~fg].any()


@pytest.fixture(scope="module")
def tiny():
    clouds = [toy_table(400, seed=i, name=f"t{i}") for i in range(3)]
    cfg = LearnedProposerConfig(width=4, depth=2, steps=4, batch_size=2, thresholds=(0.3, 0.5))
    view = ViewConfig(image_size=32)
    return clouds, LearnedProposer(clouds[0].part_names, cfg, view).fit(clouds[:2]), view


def test_proposals_are_consistent(tiny):
    clouds, lp, view = tiny
    c = clouds[2]
    views = render_views(c.points, c.colors, view)
    shape = type(c)(c.points, normals=estimate_normals(c.points), colors=c.colors, part_names=c.part_names)
    props = lp.propose(views, shape)
    assert props.features.shape == (len(props), lp.feature_dim)
    assert np.isfinite(props.features).all()
    if len(props):
        assert (props.masks.reshape(len(props), -1).sum(1) >= lp.min_area_px).all()
        for b in range(len(props)):
            rows, cols = np.nonzero(props.masks[b])
            assert_close(props.box[b], [cols.min(), rows.min(), cols.max() + 1, rows.max() + 1], atol=0)
        assert ((props.score >= 0) & (props.score <= 1)).all()
    again = lp.propose(views, shape)
    assert (again.masks == props.masks).all() and np.array_equal(again.features, props.features)


def test_components_split_by_threshold_and_boundary(tiny):
    _, lp, _ = tiny
    prob = np.zeros((12, 12), np.float32)
    prob[1:5, 1:5] = 0.9  # a confident blob
    prob[1:5, 6:11] = 0.4  # a weak blob, only above the 0.3 threshold
    boundary = np.zeros((12, 12), bool)
    comps = lp._components(prob, boundary)
    assert [(int(m.sum()), t) for m, t in comps] == [(16, 0.3), (20, 0.3)]
    prob[6:11, 1:11] = 0.8
    boundary[6:11, 5] = True  # a predicted instance boundary cuts the bottom blob in two
    comps = lp._components(prob, boundary)
    sizes = sorted(int(m.sum()) for m, _ in comps)
    assert sizes.count(30) == 1 and sizes.count(25) == 1, sizes


def test_untrained_refuses_and_save_load(tmp_path, tiny):
    clouds, lp, view = tiny
    with pytest.raises(RuntimeError):
        LearnedProposer(clouds[0].part_names, lp.config, view).propose(None, clouds[0])
    lp.save(tmp_path / "p")
    other = LearnedProposer(clouds[0].part_names, LearnedProposerConfig(), view)
    other.load_state(tmp_path / "p")
    assert other.cache_key() == lp.cache_key() and other.config == lp.config


def test_unweighted_voting_proposer_shares_the_network(tiny):
    clouds, lp, view = tiny
    cfg = replace(lp.config, thresholds=(0.2, 0.5), unweighted_thresholds=(0.5,))
    weighted = lp.with_config(cfg)
    unweighted = weighted.for_unweighted_voting()
    assert unweighted.net is lp.net and unweighted.config.thresholds == (0.5,)
    assert unweighted.cache_key() != weighted.cache_key()
    # the same proposals as a proposer configured with those thresholds from the start
    c = clouds[2]
    views = render_views(c.points, c.colors, view)
    shape = type(c)(c.points, normals=estimate_normals(c.points), colors=c.colors, part_names=c.part_names)
    ref = lp.with_config(replace(cfg, thresholds=(0.5,))).propose(views, shape)
    got = unweighted.propose(views, shape)
    assert np.array_equal(got.masks, ref.masks) and np.array_equal(got.label, ref.label)
    # a 0.5 component is either kept or a near-duplicate (IoU > 0.9) of a distinct 0.2 one
    both = weighted.propose(views, shape)
    assert len(both) >= len(got)
    with pytest.raises(ValueError, match="training settings"):
        lp.with_config(replace(cfg, steps=cfg.steps + 1))


def test_training_settings_leave_out_inference_fields():
    a = LearnedProposerConfig()
    b = replace(a, thresholds=(0.5,), unweighted_thresholds=(0.7,), boundary_threshold=0.3, max_proposals_per_view=5)
    assert a.training_settings() == b.training_settings()
    assert a.training_settings() != replace(a, lr=1e-3).training_settings()


def test_partstad_votes_unweighted_with_the_unweighted_thresholds(tiny):
    from partlift.partstad.config import PartSTADConfig
    from partlift.partstad.model import PartSTAD

    _, lp, _ = tiny
    lp2 = lp.with_config(replace(lp.config, thresholds=(0.2, 0.5), unweighted_thresholds=(0.5,)))
    learned = PartSTAD(PartSTADConfig(), proposer=lp2)
    assert learned.voting_proposer() is lp2
    for variant in ({"weights": "none"}, {"weights": "none", "use_masks": False}):
        m = learned.variant(**variant)
        assert m.voting_proposer().config.thresholds == (0.5,)
        assert m.preprocessor().proposer_key == lp2.for_unweighted_voting().cache_key()
    assert learned.variant(weights="confidence").voting_proposer() is lp2


def test_training_learns_the_parts_of_an_unseen_shape():
    """A short training on two toy tables segments a third one it never saw, far above the untrained
    network: per-pixel part accuracy, and a proposal of the right label on the top in most views."""
    clouds = [toy_table(500, seed=s, name=f"t{s}") for s in (0, 1, 5)]
    cfg = LearnedProposerConfig(width=8, depth=3, steps=150, batch_size=4, train_views=12, seed=0)
    view = ViewConfig(image_size=32)
    untrained = LearnedProposer(clouds[0].part_names, cfg, view)
    trained = LearnedProposer(clouds[0].part_names, cfg, view).fit(clouds[:2])
    c = clouds[2]
    views = render_views(c.points, c.colors, view)
    shape = type(c)(c.points, normals=estimate_normals(c.points), colors=c.colors, part_names=c.part_names)
    geo = trained.view_geometry(views, shape)
    fg = views.point_index >= 0
    truth = c.labels[views.point_index[fg]]

    def pixel_accuracy(lp):
        probs = lp.predict_maps(views.image, geo)[0]  # (V, C + 2, H, W): background, unlabelled, parts
        return float((probs[:, 2:].argmax(1)[fg] == truth).mean())

    acc, chance = pixel_accuracy(trained), pixel_accuracy(untrained)
    assert acc > 0.85 and acc > chance + 0.2, (acc, chance)
    props = trained.propose(views, shape)
    top = c.part_names.index("tabletop")
    found = 0
    for v in range(views.num_views):
        gt = fg[v] & (c.labels[np.maximum(views.point_index[v], 0)] == top)
        cand = props.masks[(props.view == v) & (props.label == top)]
        ious = [(m & gt).sum() / max((m | gt).sum(), 1) for m in cand]
        found += bool(ious) and max(ious) > 0.5
    assert found >= 8, found
