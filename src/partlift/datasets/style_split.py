"""The style hold-out split: few-shot and validation shapes of some generator styles, test shapes of
a style never seen in training (docs/FORMATS.md, "Style hold-out split").

Every procedural generator records the discrete choices it made in ``mesh.extras["style"]`` (a car's
``body``, a chair's ``base``, ...). The rule, deterministic and computed from the generator alone
(never from a method's results):

1. **Sample.** :data:`RULE_SHAPES` shapes with the fixed seeds ``RULE_SEED + i`` (the same for every
   dataset seed), each described by the occupancy histogram of 2048 surface points on an 8 x 8 x 8
   grid over the unit box (:func:`shape_descriptor`).
2. **Key.** Candidates are the discrete style keys (the registry's ``CategoryInfo.styles``; for a
   custom generator every str / int / bool entry) recorded on every sampled shape with at least two
   values. The key is the one whose values explain the most geometry: the largest adjusted effect
   size epsilon^2 = (SS_between - (k - 1) MS_within) / SS_total of the descriptors grouped by its
   value (k groups; adjusted so that a key with more values does not win by chance).
3. **Value.** Of that key's values, those held by 10-50 % of the sample (enough test shapes, most
   shapes left for training) whose shapes contain no part missing from the other values' shapes (a
   held-out style must not bring a part training never saw) are eligible; the held-out value is the
   one whose mean descriptor is farthest from the mean of the other shapes (the most novel
   geometry). If the key has no eligible value, the next key is tried.
4. **Shapes.** Each split scans its own seed stream in order (``seed * 100000`` + 0 few-shot,
   10000 validation, 20000 in-style test, 30000 held-out test, + i) and keeps the first shapes whose
   style is in-style (few-shot, validation, ``test``) or held out (``test_heldout``).

So no test style appears in ``few_shot`` or ``val``, and the same seed gives the same shapes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from partlift.datasets.shape_source import generate_shape
from partlift.errors import PartliftError
from partlift.geometry.partmesh import PartMesh

if TYPE_CHECKING:
    from partlift.datasets.points import PointsDatasetConfig

RULE_SEED = 90_000
"""First seed of the shapes the rule is computed on (independent of the dataset seed)."""
RULE_SHAPES = 64
"""Shapes the rule is computed on."""
MIN_SHARE, MAX_SHARE = 0.10, 0.50
"""Share of the rule's shapes a held-out value may have."""
GRID = 8
"""Occupancy grid cells per axis of :func:`shape_descriptor`."""
STYLE_SPLITS = ("few_shot", "val", "test", "test_heldout")
"""Splits of a style hold-out dataset; ``test`` is the in-style test set."""
_OFFSETS = {"few_shot": 0, "val": 10_000, "test": 20_000, "test_heldout": 30_000}
_STREAM = 10_000  # seeds scanned per split at most


@dataclass(frozen=True)
class StyleHoldout:
    """The held-out style of a category and what the rule measured.

    Attributes:
        category: the category.
        key: the style key split on (e.g. "body").
        value: its held-out value (e.g. "suv"); every other value is in-style.
        effects: adjusted effect size (epsilon^2) of every candidate key.
        novelty: distance of every value's mean descriptor from the mean of the other shapes.
        shares: share of the rule's shapes holding each value of ``key``.
    """

    category: str
    key: str
    value: Any
    effects: dict[str, float]
    novelty: dict[str, float]
    shares: dict[str, float]

    def held_out(self, style: dict) -> bool:
        """Whether a shape's style record is of the held-out style."""
        return _plain(style.get(self.key)) == self.value

    def label(self) -> str:
        """``key=value``, as printed in the benchmark tables."""
        return f"{self.key}={_text(self.value)}"

    def to_dict(self) -> dict:
        return {"category": self.category, "key": self.key, "value": self.value, "effects": self.effects,
                "novelty": self.novelty, "shares": self.shares}


def _plain(v: Any) -> Any:
    """A style value as a plain JSON scalar (numpy ints and bools become Python ones)."""
    if isinstance(v, np.generic):
        return v.item()
    return v


def _text(v: Any) -> str:
    return str(v).lower() if isinstance(v, bool) else str(v)


def shape_descriptor(mesh: PartMesh, points: int = 2048, seed: int = 0) -> np.ndarray:
    """(GRID^3,) float64 share of ``points`` area-uniform surface samples per cell of a GRID^3 grid
    over the axis-aligned unit box centred at the origin (procedural shapes are normalised to it)."""
    from partlift.geometry.sampling import sample_surface

    p = sample_surface(mesh, points, seed=seed).points.astype(np.float64)
    cell = np.clip(np.floor((p + 0.5) * GRID).astype(np.int64), 0, GRID - 1)
    flat = (cell[:, 0] * GRID + cell[:, 1]) * GRID + cell[:, 2]
    return np.bincount(flat, minlength=GRID**3) / len(p)


def effect_size(x: np.ndarray, groups: np.ndarray) -> float:
    """Adjusted effect size epsilon^2 of a grouping of the rows of ``x`` (multivariate: sums of
    squares over all columns); 0 for a single group."""
    values = np.unique(groups)
    k, n = len(values), len(x)
    if k < 2 or n <= k:
        return 0.0
    mean = x.mean(axis=0)
    total = float(((x - mean) ** 2).sum())
    within = float(sum(((x[groups == g] - x[groups == g].mean(axis=0)) ** 2).sum() for g in values))
    if total <= 0:
        return 0.0
    return (total - within - (k - 1) * within / (n - k)) / total


def _candidate_keys(category: str, generator: str | None, styles: list[dict]) -> list[str]:
    if generator:
        keys = [k for k, v in styles[0].items() if isinstance(_plain(v), (str, bool, int))]
    else:
        from partlift.shapes.registry import category_info

        keys = [k for k, opts in category_info(category).styles.items() if len(opts) >= 2]
    out = []
    for k in keys:
        if all(k in s for s in styles) and len({_plain(s[k]) for s in styles}) >= 2:
            out.append(k)
    return out


@functools.lru_cache(maxsize=64)
def style_holdout(category: str, generator: str | None = None) -> StyleHoldout:
    """The held-out style of a category by the module's rule (cached per process)."""
    meshes = [generate_shape(category, RULE_SEED + i, generator) for i in range(RULE_SHAPES)]
    styles = [dict(m.extras.get("style", {})) if m.extras else {} for m in meshes]
    keys = _candidate_keys(category, generator, styles)
    if not keys:
        raise PartliftError(f"{category}: no discrete style key varies over {RULE_SHAPES} shapes; "
                            "a style hold-out split needs one")
    desc = np.stack([shape_descriptor(m, seed=i) for i, m in enumerate(meshes)])
    parts = [set(np.unique(m.labels[m.labels >= 0]).tolist()) if m.labels is not None else set() for m in meshes]
    effects = {k: effect_size(desc, np.array([_text(_plain(s[k])) for s in styles])) for k in keys}
    for key in sorted(keys, key=lambda k: (-effects[k], keys.index(k))):
        vals = [_plain(s[key]) for s in styles]
        novelty, shares, eligible = {}, {}, []
        for v in sorted(set(vals), key=_text):
            mask = np.array([x == v for x in vals])
            shares[_text(v)] = float(mask.mean())
            novelty[_text(v)] = float(np.linalg.norm(desc[mask].mean(axis=0) - desc[~mask].mean(axis=0)))
            seen = set().union(*(p for p, m in zip(parts, mask, strict=True) if not m))
            brings_new = set().union(*(p for p, m in zip(parts, mask, strict=True) if m)) - seen
            if MIN_SHARE <= mask.mean() <= MAX_SHARE and not brings_new:
                eligible.append(v)
        if eligible:
            value = max(eligible, key=lambda v: (novelty[_text(v)], _text(v)))
            return StyleHoldout(category, key, value, effects, novelty, shares)
    raise PartliftError(f"{category}: no style value can be held out (each is held by under "
                        f"{MIN_SHARE:.0%} or over {MAX_SHARE:.0%} of the shapes, or brings a part of its own)")


def _scan(category: str, generator: str | None, first: int, n: int, keep: Callable[[dict], bool],
          split: str) -> list[int]:
    out: list[int] = []
    for s in range(first, first + _STREAM):
        if len(out) == n:
            break
        mesh = generate_shape(category, s, generator)
        if keep(dict(mesh.extras.get("style", {})) if mesh.extras else {}):
            out.append(s)
    if len(out) < n:
        raise PartliftError(f"{category}: only {len(out)} of {n} {split} shapes found in {_STREAM} seeds")
    return out


def style_split_seeds(config: PointsDatasetConfig) -> dict[str, list[int]]:
    """Shape seeds per split of a style hold-out dataset (``few_shot``, ``val``, ``test`` in-style,
    ``test_heldout``); ``n_test`` shapes in each test split."""
    rule = style_holdout(config.category, config.generator)
    counts = {"few_shot": config.n_few_shot, "val": config.n_val, "test": config.n_test,
              "test_heldout": config.n_test}
    out = {}
    for split in STYLE_SPLITS:
        held = split == "test_heldout"

        def keep(style: dict, held: bool = held) -> bool:
            return rule.held_out(style) == held

        out[split] = _scan(config.category, config.generator, int(config.seed) * 100_000 + _OFFSETS[split],
                           counts[split], keep, split)
    return out
