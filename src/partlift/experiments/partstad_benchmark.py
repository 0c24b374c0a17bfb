"""The embedded PartSTAD benchmark (``partlift bench partstad``, the demo): every method trained and
scored on the embedded PartNetE-layout data with ``partlift.metrics``; results cached so a rerun resumes.

Data comes from :func:`partlift.datasets.cache.embedded_points_root` and
:func:`partlift.datasets.loaders.load_partnete_split`: the PartNetE-style categories by default, the
Part321 taxonomies with the ``user`` preset, and with ``split="style"`` the style hold-out datasets,
whose methods are fitted once and scored on two test sets (the in-style ``test`` and the held-out
style's ``test_heldout``).
"""

from __future__ import annotations

import json
import math
import time
import typing
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from partlift.datasets.cache import embedded_points_root
from partlift.datasets.loaders import load_partnete_split as load_split
from partlift.errors import ConfigError, ReadError
from partlift.geometry.atomic import atomic_savez, atomic_write_json
from partlift.validation import bounded, validate_config

if TYPE_CHECKING:
    from partlift.geometry.pointcloud import PartPointCloud
    from partlift.partstad.proposals.learned import LearnedProposer

# ============================================================================================ data


# ============================================================================================ bench

UPPER_BOUND = "weights_fit_on_test"
"""Not a method: PartSTAD's weight network fitted (and its epoch picked) on the test shapes
themselves. How far PartSTAD could get above PartSLIP with this proposer if the 8 few-shot shapes
told the weight network everything; the gap to ``partstad`` is what the few-shot fit leaves."""
PartstadMethod = Literal["satr", "satr_sp", "partslip", "wo_weights", "wo_masks", "partstad", "ce_loss",
                         "conf_weights", "weights_fit_on_test"]
ALL_METHODS: tuple[str, ...] = typing.get_args(PartstadMethod)
METHOD_LABELS = {
    "satr": "SATR", "satr_sp": "SATR+SP", "partslip": "PartSLIP", "wo_weights": "w/o weight pred.",
    "wo_masks": "w/o masks", "partstad": "PartSTAD", "ce_loss": "CE loss", "conf_weights": "conf. as weight",
    UPPER_BOUND: "(bound) fit on test",
}
INSTANCE_METHODS = ("partslip", "wo_weights", "wo_masks", "partstad", "ce_loss", "conf_weights")
PARTNETE_CATEGORIES = ("Chair", "Table", "StorageFurniture", "Laptop", "Kettle", "Lamp", "Faucet", "Bottle",
                       "Bucket", "Display", "KitchenPot")
"""The embedded PartNetE-style categories (the default)."""
USER_CATEGORIES = ("car", "bus", "airliner", "mountain_bike", "tricycle")
"""The ``user`` preset: Part321 taxonomies with parts named by side, as a user would write them."""
TEST_SETS = {"random": ("test",), "style": ("test", "test_heldout")}
"""The test sets scored per split: the style hold-out adds the held-out style's shapes."""


@dataclass(frozen=True)
class BenchSettings:
    """What ``partlift bench partstad`` runs."""

    categories: tuple[str, ...] = PARTNETE_CATEGORIES
    """Embedded categories (any of ``partlift shapes list``)."""
    test_shapes: int | None = bounded(None, ge=1)
    """Test shapes per category (None = all)."""
    proposer_steps: int = bounded(600, ge=0)
    """Training steps of the learned proposer."""
    epochs: int = bounded(400, ge=1)
    """Weight-network epochs (PartSTAD: 400)."""
    timing_shapes: int = bounded(3, ge=0)
    """Test shapes per category timed end to end without the cache."""
    seed: int = bounded(0, ge=0)
    """Seed of the proposer and weight-network training."""
    device: str = "cpu"
    """Torch device of the proposer and weight networks (``--device``; results are cached per setting,
    not per device)."""
    methods: tuple[str, ...] = ALL_METHODS
    """Rows to run (:data:`ALL_METHODS`), printed in that order."""
    split: Literal["random", "style"] = "random"
    """"random": the embedded datasets' random split; "style": the style hold-out
    (:mod:`partlift.datasets.style_split`), scored on the in-style and the held-out test shapes."""

    def __post_init__(self) -> None:
        validate_config(self)
        unknown = [m for m in self.methods if m not in ALL_METHODS]
        if unknown or not self.methods:
            raise ConfigError(f"BenchSettings.methods: {', '.join(map(repr, unknown)) or 'none given'}; "
                              f"use some of {', '.join(ALL_METHODS)}")
        object.__setattr__(self, "methods", tuple(m for m in ALL_METHODS if m in self.methods))


def quick_settings() -> BenchSettings:
    """The <= 10-minute configuration: 2 categories, 10 test shapes, a shorter proposer training."""
    return BenchSettings(categories=("Kettle", "Chair"), test_shapes=10, proposer_steps=300, epochs=400,
                         timing_shapes=2)


PRESETS: dict[str, Callable[[], BenchSettings]] = {
    "full": BenchSettings,
    "quick": quick_settings,
    "user": lambda: BenchSettings(categories=USER_CATEGORIES, methods=("partslip", "partstad")),
}
"""``--preset``: every PartNetE-style category with every method (the default), the quick run, and
the user categories (:data:`USER_CATEGORIES`) with PartSLIP and PartSTAD."""


def preset_settings(name: str) -> BenchSettings:
    """The settings of a preset (:data:`PRESETS`)."""
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; use one of {', '.join(PRESETS)}")
    return PRESETS[name]()


def _is_weighted(name: str) -> bool:
    """Whether a benchmark row votes with weights (learned or confidence); the others (SATR,
    PartSLIP, w/o weight prediction) use the proposer's ``unweighted_thresholds``."""
    return name not in ("satr", "satr_sp", "partslip", "wo_weights")


def fit_shapes(name: str, few_shot: list, val: list, test: list) -> tuple[list, list]:
    """(training, epoch-selection) shapes of a method: the few-shot and validation shapes, or the
    test shapes for both in the :data:`UPPER_BOUND` row."""
    return (test, test) if name == UPPER_BOUND else (few_shot, val)


def _method_config(base, name: str):
    if name == "partslip":
        return replace(base, weights="none", use_masks=False)
    if name == "wo_weights":
        return replace(base, weights="none", use_masks=True)
    if name == "wo_masks":
        return replace(base, use_masks=False)
    if name == "ce_loss":
        return replace(base, train=replace(base.train, loss="ce"))
    if name == "conf_weights":
        return replace(base, weights="confidence")
    return base


@dataclass
class _CategoryRun:
    category: str
    part_names: tuple[str, ...]
    shape_ids: list[str]
    gts: list[tuple[np.ndarray, np.ndarray]]
    preds: dict[str, list[dict]] = field(default_factory=dict)
    timing: dict = field(default_factory=dict)


def _ground_truth(cloud: PartPointCloud) -> tuple[np.ndarray, np.ndarray]:
    assert cloud.labels is not None and cloud.instances is not None  # set by PartPointCloud.__post_init__
    return cloud.labels, cloud.instances


def _save_result(path: Path, rows: list[dict], info: dict) -> None:
    """The rows as ``path`` (npz) and ``info`` as its ``.json``, which marks the result finished: it is
    removed first and written last, so an interrupted save is recomputed, never mixed with an older one."""
    path.with_suffix(".json").unlink(missing_ok=True)
    arrays = {}
    for i, r in enumerate(rows):
        for k, v in r.items():
            arrays[f"{i}_{k}"] = np.asarray(v)
    atomic_savez(path, **arrays)
    atomic_write_json(path.with_suffix(".json"), info, indent=None)


def _load_result(path: Path, fingerprint: str, n: int) -> tuple[list[dict], dict] | None:
    meta = path.with_suffix(".json")
    if not (path.exists() and meta.exists()):
        return None
    try:
        info = json.loads(meta.read_text())
        if info.get("fingerprint") != fingerprint:
            return None
        with np.load(path) as z:
            rows = [{k: z[f"{i}_{k}"] for k in ("semantic", "ids", "labels", "scores") if f"{i}_{k}" in z.files}
                    for i in range(n)]
        return rows, info
    except (OSError, ValueError, KeyError):
        return None


def _base_config(settings: BenchSettings):
    """PartSTAD's defaults with the benchmark's proposer steps, epochs and seed."""
    from partlift.partstad.config import PartSTADConfig

    base = PartSTADConfig()
    return replace(base, learned=replace(base.learned, steps=settings.proposer_steps, seed=settings.seed),
                   train=replace(base.train, epochs=settings.epochs, seed=settings.seed))


def _trained_proposer(base, names: tuple[str, ...], few: list, cdir: Path, category: str, progress: bool,
                      log: Callable[[str], None], device: str = "cpu") -> tuple[LearnedProposer, float]:
    """The category's learned proposer and its training seconds: reused from ``cdir`` when one was
    trained with the same settings, else trained on the few-shot shapes and saved."""
    from partlift.experiments.stages import fingerprint
    from partlift.partstad.proposals.learned import LearnedProposer

    # keyed by the training settings only: the thresholds are applied at proposal time
    pdir = cdir / f"proposer-{fingerprint([base.learned.training_settings(), asdict(base.views)])}"
    proposer = LearnedProposer(names, base.learned, base.views, base.proposer.min_area_px, device=device)
    if (pdir / "proposal_net.pt").exists() and (pdir / "timing.json").exists():
        proposer.load_state(pdir)
        log(f"[{category}] reusing the trained proposer in {pdir}")
        return proposer.with_config(base.learned), json.loads((pdir / "timing.json").read_text())["seconds"]
    if pdir.is_dir() and any(pdir.iterdir()):
        log(f"[{category}] {pdir} holds an unfinished proposer (no timing.json: interrupted); training it again")
    log(f"[{category}] training the proposer ({base.learned.steps} steps on {len(few)} shapes)")
    t = time.perf_counter()
    proposer.fit(few, progress=progress, log=log)
    seconds = time.perf_counter() - t
    proposer.save(pdir)
    atomic_write_json(pdir / "timing.json", {"seconds": seconds}, indent=None)  # last: marks the proposer finished
    return proposer, seconds


def _prepare_sets(base, proposer, category: str, names: tuple[str, ...], few: list, val: list,
                  tests: dict[str, list], methods: tuple[str, ...], cache_dir: Path,
                  progress: bool) -> dict[bool, tuple[list, list, dict[str, list]]]:
    """Rendered views, proposals and superpoints of every shape, once per voting mode.

    Two proposal sets: the learned proposer's thresholds for the weighted methods, its
    unweighted_thresholds for the unit-weight ones (see PartSTAD.voting_proposer). Keyed by
    ``weighted``; each value is the (few-shot, validation, {test set: shapes}) prepared shapes."""
    from partlift.partstad.model import PartSTAD

    out: dict[bool, tuple[list, list, dict[str, list]]] = {}
    for weighted in (True, False):
        if not any(_is_weighted(m) == weighted for m in methods):
            continue
        model = PartSTAD(base if weighted else _method_config(base, "partslip"), proposer=proposer,
                         cache_dir=cache_dir, category=category, part_names=names, device=proposer.device)
        every = few + val + [s for shapes in tests.values() for s in shapes]
        prepared = [model.prepare(s) for s in _bar(every, progress, f"{category}: preprocess")]
        sets, at = {}, len(few) + len(val)
        for key, shapes in tests.items():
            sets[key], at = prepared[at: at + len(shapes)], at + len(shapes)
        out[weighted] = (prepared[: len(few)], prepared[len(few): len(few) + len(val)], sets)
    return out


def _predict_rows(model, shapes: list) -> list[dict]:
    rows = []
    for ps in shapes:
        pr = model.predict_prepared(ps)
        rows.append({"semantic": pr.semantic, "ids": pr.instances.ids, "labels": pr.instances.labels,
                     "scores": pr.instances.scores})
    return rows


def _method_rows(name: str, base, proposer, run: _CategoryRun, prepared: tuple[list, list, dict[str, list]],
                 cdir: Path, cache_dir: Path, progress: bool) -> tuple[dict[str, list[dict]], dict]:
    """Predictions of one method on every test set (rows of semantic labels and, for lifting
    methods, instances) and its fit record; fits the weight network where the method has one (once
    for all test sets; the :data:`UPPER_BOUND` row once per test set, on that set)."""
    from partlift.partstad.model import PartSTAD
    from partlift.partstad.satr import satr_labels

    t = time.perf_counter()
    tr, va, tests = prepared
    out: dict[str, list[dict]] = {}
    if name in ("satr", "satr_sp"):
        for key, te in tests.items():
            out[key] = []
            for ps in te:
                lab = satr_labels(ps.points, ps.proposals, ps.views, len(run.part_names),
                                  ps.superpoints if name == "satr_sp" else None)
                sem = np.full(ps.num_input, -1, np.int64)
                sem[ps.keep_index] = lab
                out[key].append({"semantic": sem})
        return out, {"fit_s": 0.0}

    def fitted(train: list, select: list) -> PartSTAD:
        m = PartSTAD(_method_config(base, name), proposer=proposer, cache_dir=cache_dir, category=run.category,
                     part_names=run.part_names, device=proposer.device)
        return m.fit([], [], progress=progress, prepared=(train, select))

    info: dict[str, Any] = {}
    if name == UPPER_BOUND:
        for key, te in tests.items():
            m = fitted(*fit_shapes(name, tr, va, te))
            out[key] = _predict_rows(m, te)
            info.setdefault("best_epoch", m.best_epoch)
    else:
        m = fitted(tr, va)
        info.update(best_epoch=m.best_epoch, null_score=m.null_score)
        if name == "partstad":
            m.save(cdir / "model-partstad")
        out = {key: _predict_rows(m, te) for key, te in tests.items()}
    return out, {"fit_s": time.perf_counter() - t, **info}


def _set_suffix(test_set: str) -> str:
    """File-name suffix of a test set's results: none for ``test`` (the benchmark's layout before the
    style split), ``-<set>`` for the others."""
    return "" if test_set == "test" else f"-{test_set}"


def _write_predictions(workdir: Path, name: str, run: _CategoryRun, rows: list[dict], test_set: str = "test") -> None:
    """One PartNetE prediction folder per test shape (``partlift eval partstad`` reads them):
    ``predictions/<method>/...`` for ``test``, ``predictions-<set>/<method>/...`` for another set."""
    from partlift.metrics.eval_formats import save_partnete_prediction

    for sid, r in zip(run.shape_ids, rows, strict=True):
        folder = workdir / f"predictions{_set_suffix(test_set)}" / name / run.category / sid
        if "ids" in r:
            save_partnete_prediction(folder, r["semantic"], r["ids"], r["labels"], r["scores"], run.part_names)
        else:
            save_partnete_prediction(folder, r["semantic"], part_names=run.part_names)


def _inference_timing(model_dir: Path, test: list, n: int, device: str = "cpu") -> dict:
    """End-to-end inference seconds per shape without the cache (render, proposals, superpoints,
    voting), overall and per stage, on the first ``n`` test shapes."""
    from partlift.partstad.model import PartSTAD

    m = PartSTAD.load(model_dir, device=device)
    stages: dict[str, list[float]] = {}
    totals = []
    for s in test[:n]:
        t = time.perf_counter()
        pr = m.predict(s)
        totals.append(time.perf_counter() - t)
        for k, v in pr.timings.items():
            stages.setdefault(k, []).append(v)
    return {"inference_s_per_shape": float(np.mean(totals)),
            "inference_stages_s": {k: float(np.mean(v)) for k, v in stages.items()},
            "num_points": int(np.mean([len(s.points) for s in test[:n]]))}


def _run_category(settings: BenchSettings, category: str, workdir: Path, methods: tuple[str, ...], progress: bool,
                  log: Callable[[str], None]) -> dict[str, _CategoryRun]:
    """Every method on one category: load the splits, train (or reuse) the proposer, prepare the
    shapes, fit and predict each method (results cached by fingerprint), time inference. Returns one
    run per test set (:data:`TEST_SETS`); the timing is on the ``test`` run."""
    from partlift.experiments.stages import fingerprint
    from partlift.partstad.model import is_saved_model
    from partlift.partstad.superpoints import SUPERPOINT_ALGORITHM

    root = embedded_points_root(category, progress, split=settings.split)
    few = load_split(root, "few_shot", category)
    val = load_split(root, "val", category)
    tests = {key: load_split(root, key, category, settings.test_shapes) for key in TEST_SETS[settings.split]}
    if not few or not all(tests.values()):
        raise ReadError(f"embedded dataset {root} lacks few-shot or test shapes of {category}")
    names = tuple(few[0].part_names)
    base = _base_config(settings)
    cdir = workdir / category
    cdir.mkdir(parents=True, exist_ok=True)
    runs = {key: _CategoryRun(category, names, [s.name for s in te], [_ground_truth(s) for s in te])
            for key, te in tests.items()}
    proposer, train_s = _trained_proposer(base, names, few, cdir, category, progress, log, settings.device)
    timing: dict = {"proposer_train_s": train_s}
    t = time.perf_counter()
    prepared = _prepare_sets(base, proposer, category, names, few, val, tests, methods, workdir / "cache", progress)
    timing["preprocess_s"] = time.perf_counter() - t

    test_ids = [sid for r in runs.values() for sid in r.shape_ids]
    key_common = [asdict(base), [s.name for s in few], [s.name for s in val], test_ids, proposer.cache_key(),
                  SUPERPOINT_ALGORITHM]
    fits: dict[str, float] = {}
    for name in methods:
        fp = fingerprint(key_common + [name])
        paths = {key: cdir / f"result-{name}{_set_suffix(key)}.npz" for key in runs}
        cached = {key: _load_result(paths[key], fp, len(r.shape_ids)) for key, r in runs.items()}
        if all(c is not None for c in cached.values()):
            for key, c in cached.items():
                assert c is not None  # checked above
                runs[key].preds[name], info = c
            fits[name] = info.get("fit_s", 0.0)
            continue
        t = time.perf_counter()
        rows, info = _method_rows(name, base, proposer, runs["test"], prepared[_is_weighted(name)], cdir,
                                  workdir / "cache", progress)
        fits[name] = info["fit_s"]
        for key, r in runs.items():
            _write_predictions(workdir, name, r, rows[key], key)  # before the result a rerun reuses without them
            _save_result(paths[key], rows[key], {"fingerprint": fp, **info})
            r.preds[name] = rows[key]
        log(f"[{category}] {name}: done in {time.perf_counter() - t:.1f} s")
    timing["weights_fit_s"] = fits
    if "partstad" in methods and settings.timing_shapes > 0 and is_saved_model(cdir / "model-partstad"):
        timing.update(_inference_timing(cdir / "model-partstad", tests["test"], settings.timing_shapes,
                                        settings.device))
    runs["test"].timing = timing
    if settings.split == "style":
        rule = root / "style_split" / f"{category}.json"
        runs["test_heldout"].timing = {"style_holdout": json.loads(rule.read_text()) if rule.is_file() else None}
    return runs


def _bar(items, progress: bool, desc: str):
    if not progress:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, leave=False)


def evaluate_runs(runs: list[_CategoryRun], methods: tuple[str, ...]) -> dict:
    """mIoU and both mAP50 per method from the category runs (``partlift.metrics``)."""
    from partlift.metrics.instance import instance_map_from_stats, shape_instance_stats_from_labels
    from partlift.metrics.segmentation import semantic_miou_from_ious, shape_part_ious

    out: dict = {}
    names = {r.category: r.part_names for r in runs}
    for method in methods:
        ious, stats = {}, {}
        has_instances = True
        for r in runs:
            rows = r.preds.get(method)
            if rows is None:
                continue
            ious[r.category] = np.stack([shape_part_ious(p["semantic"], g[0], len(r.part_names), f"{r.category}/{sid}")
                                         for p, g, sid in zip(rows, r.gts, r.shape_ids, strict=True)])
            if "ids" in rows[0]:
                stats[r.category] = [
                    shape_instance_stats_from_labels(g[0], g[1], p["ids"], p["labels"], p["scores"], len(r.part_names))
                    for p, g in zip(rows, r.gts, strict=True)
                ]
            else:
                has_instances = False
        if not ious:
            continue
        sem = semantic_miou_from_ious(ious, names).table
        entry: dict[str, Any] = {"miou": sem.overall, "map50_part_aware": None, "map50_part_agnostic": None,
                 "per_category": {c: {"miou": sem.per_category[c], "per_part_miou": sem.per_part.get(c, {}),
                                      "map50_part_aware": None, "map50_part_agnostic": None}
                                  for c in sem.per_category}}
        if has_instances and stats:
            ins = instance_map_from_stats(stats, names)
            entry["map50_part_aware"] = ins.part_aware.overall
            entry["map50_part_agnostic"] = ins.part_agnostic.overall
            for c in entry["per_category"]:
                entry["per_category"][c]["map50_part_aware"] = ins.part_aware.per_category.get(c)
                entry["per_category"][c]["map50_part_agnostic"] = ins.part_agnostic.per_category.get(c)
        out[method] = entry
    return out


def run_bench(settings: BenchSettings, workdir: Path, methods: tuple[str, ...] | None = None, progress: bool = True,
              log: Callable[[str], None] = print) -> dict:
    """Train and evaluate the methods (default ``settings.methods``) on the embedded data; resumable
    (results cached in ``workdir``). With the style split the result also holds ``heldout`` (the
    same tables on the held-out style's shapes) and ``style_holdout`` (the rule per category)."""
    from partlift.experiments.provenance import provenance
    from partlift.metrics.tables import json_safe

    methods = settings.methods if methods is None else tuple(m for m in ALL_METHODS if m in methods)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    sets: dict[str, list[_CategoryRun]] = {key: [] for key in TEST_SETS[settings.split]}
    for cat in settings.categories:
        t = time.perf_counter()
        for key, run in _run_category(settings, cat, workdir, methods, progress, log).items():
            sets[key].append(run)
        sets["test"][-1].timing["category_total_s"] = time.perf_counter() - t
        log(f"[{cat}] finished in {time.perf_counter() - t:.0f} s")
    runs = sets["test"]
    results = evaluate_runs(runs, methods)
    timing = {r.category: r.timing for r in runs}
    inf = [r.timing["inference_s_per_shape"] for r in runs if "inference_s_per_shape" in r.timing]
    stage_keys = sorted({k for r in runs for k in r.timing.get("inference_stages_s", {})})
    summary = {
        "total_s": time.perf_counter() - t0,
        "inference_s_per_shape": float(np.mean(inf)) if inf else None,
        "inference_stages_s": {k: float(np.mean([r.timing["inference_stages_s"][k] for r in runs
                                                 if k in r.timing.get("inference_stages_s", {})]))
                               for k in stage_keys},
        "proposer_train_s": float(np.mean([r.timing["proposer_train_s"] for r in runs])),
        "preprocess_s": float(np.mean([r.timing["preprocess_s"] for r in runs])),
        "per_category": timing,
    }
    out = {"settings": asdict(settings), "methods": results, "timing": summary, "workdir": str(workdir),
           "provenance": provenance(settings.seed)}
    if "test_heldout" in sets:
        out["heldout"] = {"methods": evaluate_runs(sets["test_heldout"], methods)}
        out["style_holdout"] = {r.category: r.timing.get("style_holdout") for r in sets["test_heldout"]}
    return json_safe(out)


def _pct(v) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.1f}"


def _method_tables(methods: dict, suffix: str = "") -> list[str]:
    """Tables 1-3 of one test set's ``methods`` entry."""
    from partlift.metrics.tables import format_rows

    cats = list(next(iter(methods.values()))["per_category"]) if methods else []
    out = []
    for title, key, keep in (("Table 1: semantic segmentation, mIoU (%)", "miou", ALL_METHODS),
                             ("Table 2: instance segmentation, part-aware mAP50 (%)", "map50_part_aware",
                              INSTANCE_METHODS),
                             ("Table 3: instance segmentation, part-agnostic mAP50 (%)", "map50_part_agnostic",
                              INSTANCE_METHODS)):
        header = ["method", "mean"] + cats
        rows = [[METHOD_LABELS.get(m, m), _pct(methods[m][key])] + [_pct(methods[m]["per_category"][c][key])
                                                                    for c in cats]
                for m in keep if m in methods]
        if rows:
            out += [title + suffix, format_rows(header, rows), ""]
    return out


def format_per_part(methods: dict, title: str = "Per-part IoU (%)") -> str:
    """One table per category: a row per part, a column per method (mean IoU over the test shapes
    holding the part; ``-`` where no test shape has it)."""
    from partlift.metrics.tables import format_rows

    if not methods:
        return ""
    order = [m for m in ALL_METHODS if m in methods]
    out = [title]
    for cat in next(iter(methods.values()))["per_category"]:
        per_part = {m: methods[m]["per_category"][cat].get("per_part_miou") or {} for m in order}
        parts = list(per_part[order[0]])
        if not parts:
            continue
        rows = [[p] + [_pct(per_part[m].get(p)) for m in order] for p in parts]
        rows.append(["mean"] + [_pct(methods[m]["per_category"][cat]["miou"]) for m in order])
        out += [format_rows([cat] + [METHOD_LABELS.get(m, m) for m in order], rows), ""]
    return "\n".join(out)


def format_style_holdout(result: dict) -> str:
    """Per category: the held-out style and each method's mIoU on the in-style test shapes, on the
    held-out style's shapes, and the drop (in-style minus held-out), with the mean over categories."""
    from partlift.metrics.tables import format_rows

    ins, outs = result["methods"], result["heldout"]["methods"]
    order = [m for m in ALL_METHODS if m in ins and m in outs]
    cats = list(ins[order[0]]["per_category"]) if order else []
    rules = result.get("style_holdout", {})

    def rule(c: str) -> str:
        r = rules.get(c)
        return f"{r['key']}={str(r['value']).lower() if isinstance(r['value'], bool) else r['value']}" if r else "?"

    def cells(a, b) -> list[str]:
        drop = None if a is None or b is None else a - b
        return [_pct(a), _pct(b), _pct(drop)]

    header = ["category", "held out"] + [f"{METHOD_LABELS.get(m, m)} {k}" for m in order
                                         for k in ("in-style", "held-out", "drop")]
    rows = [[c, rule(c)] + [x for m in order for x in cells(ins[m]["per_category"][c]["miou"],
                                                            outs[m]["per_category"][c]["miou"])] for c in cats]
    rows.append(["mean", ""] + [x for m in order for x in cells(ins[m]["miou"], outs[m]["miou"])])
    title = "Style hold-out: mIoU (%) on the in-style test shapes and on the held-out style"
    return title + "\n" + format_rows(header, rows)


def format_bench(result: dict, per_part: bool = True) -> str:
    """Table 1 (mIoU), Table 2 (part-aware mAP50), Table 3 (part-agnostic mAP50), per-part IoU and
    timings; with the style split the same tables on the held-out style and the hold-out summary."""
    from partlift.metrics.tables import format_rows

    methods = result["methods"]
    out = _method_tables(methods)
    if per_part:
        out += [format_per_part(methods)]
    if "heldout" in result:
        out += _method_tables(result["heldout"]["methods"], " - held-out style")
        if per_part:
            out += [format_per_part(result["heldout"]["methods"], "Per-part IoU (%) - held-out style")]
        out += [format_style_holdout(result), ""]
    t = result["timing"]
    out.append("Time (s)")
    rows = [["inference per shape (no cache)", f"{t['inference_s_per_shape']:.2f}" if t["inference_s_per_shape"]
             else "-"]]
    rows += [[f"  {k}", f"{v:.3f}"] for k, v in t["inference_stages_s"].items()]
    rows += [["proposer training per category", f"{t['proposer_train_s']:.0f}"],
             ["preprocessing per category", f"{t['preprocess_s']:.0f}"]]
    fits: dict[str, list[float]] = {}
    for c in t["per_category"].values():
        for k, v in c.get("weights_fit_s", {}).items():
            fits.setdefault(k, []).append(v)
    rows += [[f"weight fitting per category: {k}", f"{np.mean(v):.1f}"] for k, v in fits.items() if np.mean(v) > 0]
    rows += [["total", f"{t['total_s']:.0f}"]]
    out.append(format_rows(["stage", "seconds"], rows))
    return "\n".join(out)
