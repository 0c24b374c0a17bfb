"""Config validation: field types, Literal choices, ranges, the JSON loader, --set and the CLI options."""

from __future__ import annotations

import importlib
import inspect
import json
import re
from pathlib import Path

import click
import numpy as np
import pytest

from partlift.datasets.generation import to_jsonable
from partlift.datasets.images import ImageDatasetConfig
from partlift.errors import ConfigError, PartliftError
from partlift.partstad.config import LearnedProposerConfig, PartSTADConfig, TrainConfig, ViewConfig
from partlift.validation import Range, config_from_dict, config_with, field_range, parse_value

SRC = Path(__file__).resolve().parents[1] / "src" / "partlift"


def _config_classes() -> list[type]:
    """Every frozen dataclass in src named *Config / *Settings / *Options or validating itself."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        text = path.read_text()
        names = re.findall(r"^@dataclass\(frozen=True\)\nclass (\w+)", text, re.MULTILINE)
        if not names:
            continue
        module = importlib.import_module(".".join(("partlift", *path.relative_to(SRC).with_suffix("").parts)))
        for name in names:
            cls = getattr(module, name)
            if name.endswith(("Config", "Settings", "Options")) or "validate_config" in inspect.getsource(cls):
                found.append(cls)
    return found


CONFIGS = _config_classes()


def _error(fn, *args, **kwargs) -> str:
    with pytest.raises(ConfigError) as info:
        fn(*args, **kwargs)
    msg = str(info.value)
    assert "\n" not in msg, msg
    return msg


def test_the_scan_finds_the_configs():
    names = {c.__name__ for c in CONFIGS}
    assert {"PartSTADConfig", "Part321Config", "InferenceConfig", "ImageDatasetConfig", "DemoConfig",
            "RenderCommandConfig", "ChamferOptions", "BenchSettings", "PoseSampling"} <= names
    assert len(CONFIGS) >= 35


@pytest.mark.parametrize("cls", CONFIGS, ids=lambda c: f"{c.__module__.removeprefix('partlift.')}.{c.__name__}")
def test_every_config_validates_itself_and_its_defaults_round_trip(cls):
    assert "validate_config(self)" in inspect.getsource(cls.__post_init__)
    data = json.loads(json.dumps(to_jsonable(cls())))
    assert config_from_dict(cls, data) == cls()


def test_config_error_is_a_partlift_value_error():
    assert issubclass(ConfigError, PartliftError) and issubclass(ConfigError, ValueError)


def test_literal_typo_names_the_field_and_the_file():
    msg = _error(config_from_dict, PartSTADConfig, {"weights": "learnd"}, "model/config.json")
    assert msg == ("PartSTADConfig.weights: 'learnd' is not one of 'learned', 'confidence', 'none' "
                   "(in model/config.json)")
    assert _error(TrainConfig, loss="mse") == "TrainConfig.loss: 'mse' is not one of 'mriou', 'ce'"


def test_range_names_the_nested_path():
    msg = _error(config_from_dict, PartSTADConfig, {"train": {"epochs": 0}})
    assert msg == "PartSTADConfig.train.epochs must be >= 1, got 0"
    assert _error(TrainConfig, epochs=-1) == "TrainConfig.epochs must be >= 1, got -1"
    assert _error(TrainConfig, lr=0.0) == "TrainConfig.lr must be > 0, got 0.0"
    assert _error(ViewConfig, image_size=8) == "ViewConfig.image_size must be in [16, 4096], got 8"
    msg = _error(config_from_dict, PartSTADConfig, {"learned": {"thresholds": [0.1, 1.5]}}, "p.json")
    assert msg == "PartSTADConfig.learned.thresholds[1] must be in [0, 1], got 1.5 (in p.json)"


def test_nan_and_infinity_are_refused():
    assert _error(TrainConfig, lr=float("nan")) == "TrainConfig.lr must be finite, got nan"
    msg = _error(config_from_dict, PartSTADConfig, json.loads('{"voting": {"null_threshold": Infinity}}'))
    assert msg == "PartSTADConfig.voting.null_threshold must be finite, got inf"


def test_wrong_types_name_the_field():
    msg = _error(config_from_dict, PartSTADConfig, {"train": {"epochs": "abc"}}, "c.json")
    assert msg == "PartSTADConfig.train.epochs must be an integer, got 'abc' (in c.json)"
    assert _error(TrainConfig, epochs=True) == "TrainConfig.epochs must be an integer, got True"
    assert _error(TrainConfig, epochs=2.5) == "TrainConfig.epochs must be an integer, got 2.5"
    assert _error(PartSTADConfig, use_masks=1) == "PartSTADConfig.use_masks must be true or false, got 1"
    assert _error(config_from_dict, PartSTADConfig, {"train": 5}) == "PartSTADConfig.train must be an object, got 5"
    msg = _error(config_from_dict, PartSTADConfig, {"views": {"views": [[10, 0, 5]]}})
    assert msg == "PartSTADConfig.views.views[0] must have 2 items, got 3"
    assert TrainConfig(lr=1).lr == 1, "an int is a valid float"


def test_optional_fields_take_none_or_a_valid_value():
    assert ViewConfig(radius_px=None).radius_px is None and ViewConfig(radius_px=2).radius_px == 2
    assert _error(ViewConfig, radius_px=-1.0) == "ViewConfig.radius_px must be > 0, got -1.0"
    assert _error(ViewConfig, radius_px="big") == "ViewConfig.radius_px must be a number, got 'big'"


def test_unknown_keys_are_named_with_the_allowed_ones():
    msg = _error(config_from_dict, PartSTADConfig, {"train": {"epoch": 3}}, "m/config.json")
    assert msg.startswith("PartSTADConfig.train: unknown field 'epoch'; allowed: epochs, batch_size, lr, ")
    assert msg.endswith(" (in m/config.json)")


def test_json_lists_become_tuples_and_missing_fields_take_defaults():
    cfg = config_from_dict(PartSTADConfig, {"views": {"views": [[10, 0], [40, 120]]}, "learned": {"steps": 4}})
    assert cfg.views.views == ((10.0, 0.0), (40.0, 120.0)) and cfg.learned.steps == 4
    assert cfg.learned.thresholds == LearnedProposerConfig().thresholds and cfg.train == TrainConfig()


def test_ranges_are_read_from_the_field_metadata():
    assert field_range(TrainConfig, "epochs") == Range(ge=1)
    assert field_range(TrainConfig, "loss") is None
    assert str(Range(ge=0, le=1)) == "in [0, 1]" and str(Range(gt=0, lt=180)) == "in (0, 180)"


def test_set_overrides_are_parsed_into_the_field_type():
    assert parse_value("5", int) == 5 and parse_value("car", str) == "car" and parse_value("null", str | None) is None
    cfg = config_with(ImageDatasetConfig(), {"size": "64", "pose.azimuth_range_deg": "[0, 180]", "generator": "null",
                                             "category": "hammer", "depth_dtype": "float32"})
    assert cfg.size == 64 and cfg.pose.azimuth_range_deg == (0.0, 180.0) and cfg.generator is None
    assert cfg.category == "hammer" and cfg.depth_dtype == "float32"
    msg = _error(config_with, ImageDatasetConfig(), {"size": "abc"})
    assert msg == "ImageDatasetConfig.size must be an integer, got 'abc' (in --set size=abc)"
    msg = _error(config_with, ImageDatasetConfig(), {"pose.theta": "1"})
    assert msg.startswith("ImageDatasetConfig.pose: unknown field 'theta'; allowed: azimuth_range_deg, ")
    msg = _error(config_with, ImageDatasetConfig(), {"size.x": "1"})
    assert msg == "ImageDatasetConfig.size has no fields (in --set size.x=1)"


def _two_part_cloud(seed: int):
    from partlift.geometry.pointcloud import PartPointCloud

    rng = np.random.default_rng(seed)
    top = rng.uniform([-0.6, 0.2, -0.4], [0.6, 0.3, 0.4], (150, 3))
    leg = rng.uniform([-0.1, -0.6, -0.1], [0.1, 0.2, 0.1], (150, 3))
    pts = np.concatenate([top, leg])
    labels = np.repeat([1, 0], 150)
    return PartPointCloud(pts / np.linalg.norm(pts, axis=1).max(), labels=labels, instances=labels.copy(),
                          part_names=("leg", "top"), category="Table", name=f"t{seed}")


def test_a_saved_partstad_model_with_a_bad_config_fails_in_one_line(tmp_path):
    from partlift.partstad.config import ProposerConfig
    from partlift.partstad.model import PartSTAD

    cfg = PartSTADConfig(views=ViewConfig(image_size=32), proposer=ProposerConfig(kind="oracle"), weights="none")
    model = PartSTAD(cfg, cache_dir=tmp_path / "cache").fit([_two_part_cloud(0)], [])
    folder = model.save(tmp_path / "m")
    data = json.loads((folder / "config.json").read_text())
    data["weights"] = "learnd"
    (folder / "config.json").write_text(json.dumps(data))
    msg = _error(PartSTAD.load, folder)
    assert msg == (f"PartSTADConfig.weights: 'learnd' is not one of 'learned', 'confidence', 'none' "
                   f"(in {folder / 'config.json'})")


def _cli_error(capsys, args: list[str]) -> str:
    """Run ``partlift ARGS``; it must exit 2 and name the problem on one line. Returns that line."""
    from partlift.cli import main

    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    # click's own usage errors may come after a "Usage: / Try ..." preamble; the problem is one line
    problem = [ln for ln in lines if not ln.startswith(("Usage:", "Try "))]
    assert len(problem) == 1, lines
    return problem[0]


@pytest.mark.parametrize("epochs", ["0", "-1"])
def test_train_partstad_refuses_zero_or_negative_epochs(capsys, epochs):
    line = _cli_error(capsys, ["train", "partstad", "--category", "Table", "--epochs", epochs])
    assert "--epochs" in line and f"{epochs} is not in the range x>=1" in line


def test_float_options_refuse_nan(capsys):
    line = _cli_error(capsys, ["train", "partstad", "--category", "Table", "--superpoint-reg", "nan"])
    assert "--superpoint-reg" in line and "not a finite number" in line
    line = _cli_error(capsys, ["eval", "partstad", "--gt", ".", "--pred", ".", "--iou-threshold", "nan"])
    assert "--iou-threshold" in line


def test_make_dataset_set_reports_the_key(capsys, tmp_path):
    line = _cli_error(capsys, ["make-dataset", "images", "--category", "car", "--out", str(tmp_path / "x"),
                               "--set", "size=abc"])
    assert line == "error: ImageDatasetConfig.size must be an integer, got 'abc' (in --set size=abc)"


def _option(path: list[str], name: str) -> click.Option:
    from partlift.cli import cli

    cmd: click.Command = cli
    for part in path:
        cmd = cmd.get_command(click.Context(cmd), part)
    return next(p for p in cmd.params if isinstance(p, click.Option) and name in p.opts)


def _describe(t: click.ParamType):
    if isinstance(t, click.Choice):
        return ("choice", tuple(t.choices))
    if isinstance(t, click.IntRange | click.FloatRange):
        return (type(t).__name__, t.min, t.max, t.min_open, t.max_open)
    return (t.name,)


def _field(module: str, cls: str, name: str):
    return getattr(importlib.import_module(module), cls), name


# Options whose module spells out the type (to keep `partlift --help` from importing the library);
# they must refuse exactly what the config field refuses.
SPELLED_OUT = [
    (["eval", "partstad"], "--iou-threshold", "partlift.metrics.partstad_eval", "PartstadEvalOptions", "iou_threshold"),
    (["eval", "part321"], "--chamfer-scale", "partlift.metrics.chamfer", "ChamferOptions", "scale"),
    (["eval", "part321"], "--chamfer-reduction", "partlift.metrics.chamfer", "ChamferOptions", "reduction"),
    (["eval", "part321"], "--box-min-size", "partlift.metrics.part321_eval", "Part321EvalOptions", "box_min_size"),
    (["eval", "part321"], "--box-fit", "partlift.metrics.part321_eval", "Part321EvalOptions", "box_fit"),
    (["demo"], "--seed", "partlift.experiments.demo", "DemoConfig", "seed"),
    (["make-dataset", "images"], "--n-train-meshes", "partlift.datasets.images", "ImageDatasetConfig",
     "n_train_meshes"),
    (["make-dataset", "images"], "--size", "partlift.datasets.images", "ImageDatasetConfig", "size"),
    (["make-dataset", "images"], "--seed", "partlift.datasets.images", "ImageDatasetConfig", "seed"),
    (["make-dataset", "images"], "--theta-std", "partlift.datasets.poses", "PoseSampling", "theta_std_deg"),
    (["make-dataset", "points"], "--n-points", "partlift.datasets.points", "PointsDatasetConfig", "n_points"),
    (["make-dataset", "points"], "--n-val", "partlift.datasets.points", "PointsDatasetConfig", "n_val"),
]


@pytest.mark.parametrize("path, option, module, cls, name", SPELLED_OUT, ids=lambda x: x if isinstance(x, str) else "")
def test_spelled_out_option_types_match_the_config(path, option, module, cls, name):
    from partlift.commands.options import config_type

    assert _describe(_option(path, option).type) == _describe(config_type(*_field(module, cls, name)))

