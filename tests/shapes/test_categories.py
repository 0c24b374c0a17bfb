"""Every category: labels, normalisation, budgets, spatial part names, closed parts, determinism, variety."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from scipy.spatial import cKDTree

from helpers import assert_close
from partlift.errors import PartliftError
from partlift.shapes import (
    PART321_CATEGORIES,
    PARTNETE_CATEGORIES,
    category_info,
    generate,
    generate_many,
    list_categories,
)

ALL = list_categories()
SEEDS = (0, 1, 2, 7)
MANY = 40  # seeds used for statements about "some instances"


@functools.cache
def mesh(category: str, seed: int):
    return generate(category, seed)


def test_registries_cover_the_required_categories():
    part321 = list_categories("part321")
    partnete = list_categories("partnete")
    assert len(part321) >= 10 and len(partnete) >= 8
    assert set(part321) == set(PART321_CATEGORIES) and set(partnete) == set(PARTNETE_CATEGORIES)
    supers = {category_info(c).super_category for c in part321}
    assert supers == {"car", "airplane", "bicycle", "boat", "tool"}
    for name in ("Chair", "Table", "StorageFurniture", "Laptop", "Kettle", "Lamp", "Faucet"):
        assert name in partnete
    assert {"Bottle", "Bucket"} & set(partnete)
    assert category_info("Chair").part_names == ("arm", "back", "leg", "seat", "wheel")
    assert category_info("Laptop").part_names == ("keyboard", "screen", "shaft", "touchpad", "camera")
    assert category_info("Kettle").part_names == ("lid", "handle", "spout")
    assert set(category_info("car").part_names) >= {
        "wheel_front_left",
        "wheel_front_right",
        "wheel_back_left",
        "wheel_back_right",
        "door_left",
        "door_right",
        "front_trunk",
        "back_trunk",
        "head_light_left",
        "head_light_right",
        "frame",
        "rearview_left",
        "rearview_right",
    }
    assert set(category_info("kettle").part_names) == {"spout", "body", "handle"}
    assert set(category_info("laptop").part_names) == {"keyboard", "screen", "body", "touchpad"}
    assert set(category_info("park_bench").part_names) == {"arm", "backrest", "beam", "seat", "leg"}
    assert set(category_info("umbrella").part_names) == {"handle", "canopy", "frame"}


def test_unknown_inputs_raise_partlift_errors():
    with pytest.raises(PartliftError, match="unknown shape category"):
        generate("spaceship", 0)
    with pytest.raises(PartliftError, match="seed"):
        generate("car", -1)
    with pytest.raises(PartliftError, match="kind"):
        list_categories("other")


@pytest.mark.parametrize("category", ALL)
def test_geometry_budget_and_normalisation(category):
    for seed in SEEDS:
        m = mesh(category, seed)
        assert m.category == category
        assert 1000 <= len(m.vertices) <= 8000, f"{category}/{seed}: {len(m.vertices)} vertices"
        assert np.isfinite(m.vertices).all()
        lo, hi = m.bounds()
        assert_close((lo + hi) / 2, np.zeros(3), atol=1e-5, msg=f"{category}/{seed} bbox centre")
        assert_close((hi - lo).max(), 1.0, atol=1e-5, msg=f"{category}/{seed} longest side")
        assert m.colors is not None and m.colors.min() >= 0 and m.colors.max() <= 1
        assert m.face_areas().min() >= 0


@pytest.mark.parametrize("category", ALL)
def test_labels_cover_every_vertex_with_one_region(category):
    info = category_info(category)
    for seed in SEEDS:
        m = mesh(category, seed)
        region_names = m.extras["region_names"]
        region = m.extras["region"]
        assert region.shape == (len(m.vertices),) and region.min() >= 0 and region.max() < len(region_names)
        base = np.array([r.split("#")[0] for r in region_names])[region]
        if info.kind == "part321":
            assert (m.labels >= 0).all(), f"{category}/{seed}: Part321 shapes label every vertex"
        else:
            unl = np.isin(base, info.unlabelled_regions)
            assert ((m.labels < 0) == unl).all(), f"{category}/{seed}: -1 exactly on the unlabelled regions"
        # a region maps to exactly one label, and the instance ids refine the labels
        for r in np.unique(region):
            assert len(np.unique(m.labels[region == r])) == 1
        assert ((m.instances < 0) == (m.labels < 0)).all()
        for i in np.unique(m.instances[m.instances >= 0]):
            assert len(np.unique(m.labels[m.instances == i])) == 1, "an instance spans two parts"


@pytest.mark.parametrize("category", ALL)
def test_required_parts_always_present_optional_parts_sometimes(category):
    info = category_info(category)
    present = np.zeros((MANY, len(info.part_names)), dtype=bool)
    for seed in range(MANY):
        m = mesh(category, seed)
        present[seed] = np.bincount(m.labels[m.labels >= 0], minlength=len(info.part_names)) > 0
    for k, name in enumerate(info.part_names):
        if name in info.optional_parts:
            assert present[:, k].any() and not present[:, k].all(), f"{category}: optional part {name} never varies"
        else:
            assert present[:, k].all(), f"{category}: part {name} missing in seeds {np.flatnonzero(~present[:, k])}"


def spatial_expectations(name: str) -> list[tuple[int, float]]:
    """(axis, sign) pairs implied by a spatial part name: left = +X, right = -X, front = +Z, back = -Z."""
    tokens = name.split("_")
    out = []
    if "left" in tokens:
        out.append((0, 1.0))
    if "right" in tokens:
        out.append((0, -1.0))
    if "front" in tokens:
        out.append((2, 1.0))
    if "back" in tokens:
        out.append((2, -1.0))
    return out


@pytest.mark.parametrize("category", ALL)
def test_spatial_part_names_match_the_geometry(category):
    info = category_info(category)
    checked = 0
    for seed in range(12):
        m = mesh(category, seed)
        for k, name in enumerate(info.part_names):
            mask = m.labels == k
            if not mask.any():
                continue
            c = m.vertices[mask].mean(axis=0)
            for axis, sign in spatial_expectations(name):
                assert sign * c[axis] > 0.01, (
                    f"{category}/{seed}: {name} centroid {c} not on the {sign:+} side of {axis}"
                )
                checked += 1
            if "middle" in name.split("_"):
                assert abs(c[0]) < 0.01, f"{category}/{seed}: {name} centroid {c} not centred"
                checked += 1
    if any(spatial_expectations(n) for n in info.part_names):
        assert checked > 0


def test_named_examples():
    m = mesh("car", 3)
    c = m.vertices[m.part_mask("wheel_front_left")].mean(axis=0)
    assert c[0] > 0 and c[2] > 0 and c[1] < 0  # forward, left, low
    for part, axis, sign in (
        ("door_left", 0, 1),
        ("door_right", 0, -1),
        ("head_light_left", 0, 1),
        ("front_trunk", 2, 1),
        ("back_trunk", 2, -1),
    ):
        assert sign * m.vertices[m.part_mask(part)].mean(axis=0)[axis] > 0, part
    chair = mesh("Chair", 0)
    back, seat = chair.part_mask("back"), chair.part_mask("seat")
    assert chair.vertices[back, 2].mean() < chair.vertices[seat, 2].mean()  # the back is behind the seat
    assert chair.vertices[back, 1].mean() > chair.vertices[seat, 1].mean()  # and above it
    kettle = mesh("kettle", 0)
    assert kettle.vertices[kettle.part_mask("spout"), 2].mean() > 0  # the spout is the front
    lap = mesh("Laptop", 0)
    assert lap.vertices[lap.part_mask("screen"), 1].mean() > lap.vertices[lap.part_mask("keyboard"), 1].mean()


def closed_and_outward(vertices: np.ndarray, faces: np.ndarray) -> tuple[bool, float]:
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    fwd = set(map(tuple, edges.tolist()))
    closed = len(fwd) == len(edges) and all((b, a) in fwd for a, b in fwd)
    tri = vertices[faces].astype(np.float64)
    vol = float(np.einsum("ij,ij->i", tri[:, 0], np.cross(tri[:, 1], tri[:, 2])).sum() / 6.0)
    return closed, vol


@pytest.mark.parametrize("category", ALL)
def test_every_primitive_is_closed_and_wound_outward(category):
    m = mesh(category, 1)
    slot_of_key = {k: v.split("|", 1)[0] for k, v in m.extras["part_keys"].items()}
    slot = np.array([slot_of_key[k] for k in m.extras["part_instance_key"].tolist()])
    for s in np.unique(slot):
        in_slot = slot == s
        faces = m.faces[in_slot[m.faces].all(axis=1)]
        assert in_slot[m.faces].any(axis=1).sum() == len(faces), f"{category}: faces straddle slot {s}"
        closed, vol = closed_and_outward(m.vertices, faces)
        assert closed, f"{category}: primitive {s} is not closed"
        assert vol > 0, f"{category}: primitive {s} winds inward (volume {vol})"


@pytest.mark.parametrize("category", ALL)
def test_deterministic_by_seed(category):
    a, b = generate(category, 11), generate(category, 11)
    np.testing.assert_array_equal(a.vertices, b.vertices)
    np.testing.assert_array_equal(a.faces, b.faces)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.instances, b.instances)
    np.testing.assert_array_equal(a.extras["corr"], b.extras["corr"])
    assert a.extras["style"] == b.extras["style"]
    c = generate(category, 12)
    assert len(c.vertices) != len(a.vertices) or not np.array_equal(c.vertices, a.vertices)


def test_generate_many_uses_consecutive_seeds():
    ms = generate_many("hammer", 3, seed=5)
    assert [m.extras["seed"] for m in ms] == [5, 6, 7]
    np.testing.assert_array_equal(ms[1].vertices, mesh("hammer", 6).vertices)


@pytest.mark.parametrize("category", ALL)
def test_variety_is_more_than_jittered_scale(category):
    info = category_info(category)
    styles, extents, chamfer = set(), [], []
    ref = cKDTree(mesh(category, 0).vertices)
    for seed in range(20):
        m = mesh(category, seed)
        styles.add(tuple(sorted((k, str(v)) for k, v in m.extras["style"].items() if k in info.styles)))
        lo, hi = m.bounds()
        extents.append(hi - lo)
        if seed:
            d_ab = cKDTree(m.vertices).query(mesh(category, 0).vertices)[0].mean()
            d_ba = ref.query(m.vertices)[0].mean()
            chamfer.append(0.5 * (d_ab + d_ba))
    assert len(styles) >= 2, f"{category}: only one discrete style in 20 seeds"
    # after unit-box normalisation a rescaled copy would have identical extents and part fractions
    assert np.ptp(np.asarray(extents), axis=0).max() > 0.05, f"{category}: proportions do not vary"
    assert np.median(chamfer) > 0.01, f"{category}: instances nearly coincide after normalisation"


def count_instances(m, part):
    return len(np.unique(m.instances[m.part_mask(part)]))


def test_part_counts_and_shapes_vary_where_the_category_allows():
    seeds = range(MANY)
    engines = {count_instances(mesh("airliner", s), "engine_left") for s in seeds}
    assert engines == {1, 2}  # two- and four-engine airliners
    bases = {mesh("Chair", s).extras["style"]["base"] for s in seeds}
    assert {"four_legs", "star"} <= bases
    for s in seeds:
        m = mesh("Chair", s)
        has_wheels = m.part_mask("wheel").any()
        assert has_wheels == (m.extras["style"]["base"] == "star")
        if m.extras["style"]["base"] == "star":
            assert count_instances(m, "wheel") == m.extras["style"]["star_arms"]
        if m.extras["style"]["base"] == "four_legs":
            assert count_instances(m, "leg") == 4
    drawers = {
        int(mesh("Table", s).part_mask("drawer").any() and count_instances(mesh("Table", s), "drawer")) for s in seeds
    }
    assert len(drawers) >= 3
    doors = {count_instances(mesh("car", s), "door_left") for s in seeds}
    assert doors == {1, 2}
    legs = {
        mesh("Chair", s).extras["style"]["leg_shape"]
        for s in seeds
        if mesh("Chair", s).extras["style"]["base"] == "four_legs"
    }
    assert legs == {"round", "square"}
