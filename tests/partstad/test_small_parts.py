"""Small-part priority: PartSLIP's list on PartNetE names, point shares of the few-shot shapes elsewhere."""

import numpy as np

from partlift.partstad.config import SMALL_PARTS, VotingConfig
from partlift.partstad.model import PARTNETE_PART_NAMES
from partlift.partstad.voting import small_parts_from_shapes


def _shape(counts: dict[int, int], unlabelled: int = 0) -> np.ndarray:
    return np.concatenate([np.full(n, k) for k, n in counts.items()] + [np.full(unlabelled, -1)])


def test_partnete_names_keep_partslip_list_whatever_their_size():
    names = ("arm", "back", "leg", "seat", "wheel")
    big_wheels = [_shape({0: 10, 1: 10, 2: 10, 3: 10, 4: 60})]  # wheels are large here, arms tiny
    got = small_parts_from_shapes(names, big_wheels, SMALL_PARTS, 0.05, PARTNETE_PART_NAMES)
    assert got == ("wheel",)


def test_other_names_are_small_by_median_share():
    names = ("frame", "wheel_front_left", "head_light_left", "door_left")
    shapes = [
        _shape({0: 800, 1: 40, 2: 5, 3: 155}, unlabelled=100),  # shares of labelled points: 4 %, 0.5 %, 15.5 %
        _shape({0: 700, 1: 60, 2: 10, 3: 230}),
        _shape({0: 900, 1: 100}),  # no light, no door: their medians come from the shapes that have them
    ]
    got = small_parts_from_shapes(names, shapes, SMALL_PARTS, 0.05, PARTNETE_PART_NAMES)
    # brute force: median over shapes containing the part of its share of labelled points
    expect = []
    for k, n in enumerate(names):
        shares = [np.mean(s[s >= 0] == k) for s in shapes if (s == k).any()]
        if np.median(shares) < 0.05:
            expect.append(n)
    assert got == tuple(expect) == ("head_light_left",)
    assert small_parts_from_shapes(names, shapes, SMALL_PARTS, 0.07, PARTNETE_PART_NAMES) == (
        "wheel_front_left", "head_light_left")


def test_the_default_share_is_documented_in_the_config():
    assert VotingConfig().small_part_share == 0.05
