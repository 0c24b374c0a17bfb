"""The style hold-out split: test styles never in few-shot or validation, deterministic by seed, and
the rule's pieces (effect size, eligible values) on small cases."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from partlift.datasets.cache import embedded_dataset_path
from partlift.datasets.loaders import load_partnete_split
from partlift.datasets.points import PointsDatasetConfig, generate_points_dataset
from partlift.datasets.style_split import STYLE_SPLITS, effect_size, style_holdout, style_split_seeds
from partlift.shapes import generate


def _styles(category: str, seeds: list[int]) -> list[dict]:
    return [generate(category, s).extras["style"] for s in seeds]


@pytest.mark.parametrize("category", ["Bucket", "car", "Chair"])
def test_test_styles_never_appear_in_few_shot_or_val(category):
    cfg = PointsDatasetConfig(category=category, n_few_shot=8, n_val=8, n_test=6, split="style")
    rule = style_holdout(category)
    seeds = style_split_seeds(cfg)
    assert set(seeds) == set(STYLE_SPLITS)
    assert [len(seeds[s]) for s in STYLE_SPLITS] == [8, 8, 6, 6]
    held = {s: [rule.held_out(st) for st in _styles(category, seeds[s])] for s in STYLE_SPLITS}
    assert not any(held["few_shot"] + held["val"] + held["test"])
    assert all(held["test_heldout"])
    trained = {st[rule.key] for s in ("few_shot", "val") for st in _styles(category, seeds[s])}
    assert rule.value not in trained and {st[rule.key] for st in _styles(category, seeds["test_heldout"])} == {
        rule.value}
    every = [x for s in STYLE_SPLITS for x in seeds[s]]
    assert len(every) == len(set(every))  # no shape in two splits


def test_the_split_is_deterministic_by_seed():
    cfg = PointsDatasetConfig(category="Bucket", n_few_shot=4, n_val=2, n_test=3, split="style")
    assert style_split_seeds(cfg) == style_split_seeds(replace(cfg))
    style_holdout.cache_clear()  # recomputed from scratch: the same rule
    first = style_holdout("Bucket")
    style_holdout.cache_clear()
    assert style_holdout("Bucket") == first
    other = style_split_seeds(replace(cfg, seed=1))
    assert other["test_heldout"] != style_split_seeds(cfg)["test_heldout"]
    # the held-out style does not depend on the dataset seed
    assert all(first.held_out(st) for st in _styles("Bucket", other["test_heldout"]))


def test_the_rule_picks_the_key_that_changes_geometry_most():
    rule = style_holdout("car")
    assert rule.key == max(rule.effects, key=lambda k: rule.effects[k])
    assert 0.1 <= rule.shares[str(rule.value)] <= 0.5
    eligible = [v for v, s in rule.shares.items() if 0.1 <= s <= 0.5]
    assert rule.novelty[str(rule.value)] == max(rule.novelty[v] for v in eligible)


def test_effect_size():
    rng = np.random.default_rng(0)
    groups = np.repeat(["a", "b"], 30)
    separated = rng.normal(0, 0.1, (60, 5)) + (groups == "a")[:, None] * 5.0
    assert effect_size(separated, groups) > 0.95
    noise = rng.normal(0, 1, (60, 5))
    assert abs(effect_size(noise, groups)) < 0.1
    many = np.array([str(i % 12) for i in range(60)])  # many groups do not win by chance
    assert abs(effect_size(noise, many)) < 0.15
    assert effect_size(noise, np.zeros(60)) == 0.0


def test_random_split_config_is_unchanged():
    """The field is left out of a random split's dict, so datasets made before it keep their folder."""
    plain = PointsDatasetConfig(category="Chair")
    assert "split" not in plain.to_dict()
    assert PointsDatasetConfig.from_dict(plain.to_dict()) == plain
    style = replace(plain, split="style")
    assert style.to_dict()["split"] == "style" and PointsDatasetConfig.from_dict(style.to_dict()) == style
    assert embedded_dataset_path("points", "Chair", config=plain) != embedded_dataset_path("points", "Chair",
                                                                                          config=style)


def test_style_dataset_layout(tmp_path):
    cfg = PointsDatasetConfig(category="Bucket", n_few_shot=2, n_val=1, n_test=2, n_points=300,
                              visible_only=False, split="style")
    root = generate_points_dataset(cfg, tmp_path, progress=False, log=None)
    rule = json.loads((root / "style_split" / "Bucket.json").read_text())
    assert rule["key"] == style_holdout("Bucket").key and rule["value"] == style_holdout("Bucket").value
    assert (root / "split" / "test_heldout.txt").read_text().count("\n") == 2
    for split, n in (("few_shot", 2), ("val", 1), ("test", 2), ("test_heldout", 2)):
        shapes = load_partnete_split(root, split, "Bucket")
        assert len(shapes) == n
