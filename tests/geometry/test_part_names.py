import numpy as np

from partlift.geometry.part_names import MIRROR_X, TURN_Y_180, mirror_label_map, spatial_tokens, swap_tokens


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
