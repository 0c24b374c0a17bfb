"""The configs' defaults are the constants of the public PartSLIP / PartSTAD code.

The expected values are written out here from the public code (PartSLIP's ``src/render_pc.py``,
``src/gen_superpoint.py``, ``src/bbox2seg.py``; PartSTAD's ``partstad/models.py``, ``src/sp_utils.py``,
``run_partstad.py``; docs/REFERENCES.md), not read back from the configs, so changing a default
without changing this spec table fails.
"""

from __future__ import annotations

import numpy as np
from fixtures import toy_table

from helpers import assert_close
from partlift.partstad.config import PartSTADConfig
from partlift.partstad.model import PartSTAD
from partlift.partstad.views import render_views, view_cameras

# PartSLIP's src/render_pc.py: [elevation, azimuth] in degrees
PARTSLIP_VIEW_LIST = [(10, 0), (10, 90), (10, 180), (10, 270), (40, 0), (40, 120), (40, 240), (-20, 60),
                      (-20, 180), (-20, 300)]

SPEC = {
    # rendering (PartSLIP src/render_pc.py)
    ("views", "distance"): 2.2,
    ("views", "fov"): 60.0,
    # superpoints (PartSLIP src/gen_superpoint.py)
    ("superpoints", "k"): 10,
    ("superpoints", "reg"): 0.05,
    ("superpoints", "color_weight"): 0.3,
    ("superpoints", "edge_lambda"): 1.0,
    ("superpoints", "min_size"): 10,
    ("superpoints", "normal_radius"): 0.1,
    ("superpoints", "normal_max_nn"): 30,
    # voting and instances (PartSLIP src/bbox2seg.py)
    ("voting", "null_threshold"): 0.5,
    ("voting", "whole_object_ratio"): 0.98,
    ("voting", "adjacency_threshold"): 0.02,
    ("voting", "ratio_distance"): 0.2,
    ("voting", "size_ratio"): 100.0,
    ("voting", "instance_iou"): 0.5,
    ("voting", "small_parts"): ("handle", "button", "wheel", "knob", "switch", "bulb", "shaft", "touchpad",
                                "camera", "screw"),
    # weight network and optimisation (PartSTAD partstad/models.py, src/sp_utils.py, run_partstad.py)
    ("weight_net", "tau"): 10.0,
    ("weight_net", "pos_enc"): True,
    ("weight_net", "num_freqs"): 10,
    ("weight_net", "init_std"): 1e-4,
    ("train", "epochs"): 400,
    ("train", "batch_size"): 2,
    ("train", "lr"): 1e-4,
    ("train", "null_lr"): 0.05,
    ("train", "weight_decay"): 0.01,
    ("train", "null_init"): 10.0,
    ("train", "null_floor"): 5e-4,
    ("train", "loss"): "mriou",
    ("train", "min_visible"): 2,
}


def test_defaults_are_the_public_code_constants():
    cfg = PartSTADConfig()
    wrong = {f"{group}.{name}": (getattr(getattr(cfg, group), name), want) for (group, name), want in SPEC.items()
             if getattr(getattr(cfg, group), name) != want}
    assert not wrong, f"default != spec (got, spec): {wrong}"
    assert [tuple(v) for v in cfg.views.views] == PARTSLIP_VIEW_LIST
    assert cfg.use_masks and cfg.weights == "learned" and cfg.proposer.kind == "learned"


def test_null_score_starts_at_its_init():
    assert float(PartSTAD(PartSTADConfig()).null.detach()) == 10.0


def test_view_directions_are_the_real_camera_directions():
    """PartSTAD's public code clamps negative components to 0 (views (10,180) and (10,270) then share
    a code); ours are the true unit directions to the cameras, all different."""
    cloud = toy_table(300)
    views = render_views(cloud.points, cloud.colors, PartSTADConfig().views)
    e, a = np.radians(np.array(PARTSLIP_VIEW_LIST, float)).T
    expected = np.stack([np.cos(e) * np.sin(a), np.sin(e), np.cos(e) * np.cos(a)], axis=1)
    assert_close(views.view_dirs, expected, atol=1e-6)
    assert_close([np.linalg.norm(c.center) for c in view_cameras(PartSTADConfig().views)], np.full(10, 2.2), atol=1e-6)
    assert len({tuple(np.round(d, 4)) for d in views.view_dirs}) == 10
