import numpy as np

from partlift.geometry.part_names import (
    MIRROR_X,
    TURN_Y_180,
    has_sided_pairs,
    mirror_label_map,
    spatial_tokens,
    swap_tokens,
)


def test_tokens_and_swaps():
    assert spatial_tokens("wheel_front_left") == {"front", "left"}
    assert spatial_tokens("leftover") == set()  # a token, not a substring
    assert swap_tokens("wheel_front_left", MIRROR_X) == "wheel_front_right"
    assert swap_tokens("Left wing", MIRROR_X) == "Right wing"
    assert swap_tokens("wheel_front_left", TURN_Y_180) == "wheel_back_right"
    assert swap_tokens("frame", MIRROR_X) == "frame"


def test_mirror_map_is_an_involution_of_the_taxonomy():
    names = ("frame", "wheel_front_left", "wheel_front_right", "wheel_back_left", "wheel_back_right")
    perm = mirror_label_map(names)
    assert perm.tolist() == [0, 2, 1, 4, 3]
    assert (perm[perm] == np.arange(len(names))).all()
    assert [names[p] for p in perm] == [swap_tokens(n, MIRROR_X) for n in names]


def test_unmappable_taxonomy_turns_mirroring_off():
    assert mirror_label_map(("body", "left_door")) is None
    assert mirror_label_map(("lid", "handle")).tolist() == [0, 1]


def test_sided_pairs_need_a_counterpart_in_the_taxonomy():
    from partlift.shapes.registry import category_info, list_categories

    assert has_sided_pairs(("body", "door_left", "door_right"))
    assert has_sided_pairs(("seat_front", "seat_back"))  # front/back is a pair too
    assert not has_sided_pairs(("seat", "back", "leg", "arm"))  # a chair's backrest is no side
    assert not has_sided_pairs(("body", "left_door"))
    # brute force over the embedded taxonomies: a pair exists iff some name's swapped twin is listed
    for cat in list_categories():
        names = tuple(category_info(cat).part_names)
        twins = [m for n in names for m in (swap_tokens(n, MIRROR_X), swap_tokens(n, TURN_Y_180)) if m != n]
        assert has_sided_pairs(names) == any(m in names for m in twins), cat
