"""Every command on a corpus of bad inputs built here: one line, the right status, nothing else touched.

Each case prepares its inputs in its own folder, runs ``partlift.cli.main`` in this process and
checks that (1) the exit status is 2 (bad input), (2) stderr holds exactly one line starting with
``error:`` that names the file or option at fault, (3) no traceback is printed, and (4) no file
outside the case's output path changed (inputs and the shared model fixtures are hashed before and
after). docs/BENCHMARKS.md, "Robustness", reports the corpus's size and kinds.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from partlift.cli import cli, main
from partlift.geometry.boxes import Box3D
from partlift.metrics.eval_formats import save_part321_record, save_partnete_prediction

pytest.importorskip("torch")


# ----------------------------------------------------------------------------------------- fixtures
class _Marker:
    """Unpickling this writes a file: a loader that executes code from data would create ``path``."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def evil_pickle(path: Path, marker: Path) -> None:
    path.write_bytes(pickle.dumps({"semantic_seg": _Marker(str(marker))}))


def evil_npy(path: Path, marker: Path) -> None:
    # a .npy holding an object array whose element unpickles the marker writer
    arr = np.empty((), dtype=object)
    arr[()] = {"semantic_seg": _Marker(str(marker))}
    np.save(path, arr, allow_pickle=True)


def write_tiny_obj(path: Path, faces: str = "f 1 2 3\nf 1 3 4\n", vertices: str | None = None) -> Path:
    v = vertices or "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\n"
    path.write_text(v + faces)
    return path


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """Trained tiny models and datasets, shared read-only by every case (cases copy before damaging)."""
    import importlib.util

    path = Path(__file__).parent / "partstad" / "fixtures.py"
    spec = importlib.util.spec_from_file_location("partstad_fixtures", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    write_toy_partnete = mod.write_toy_partnete
    root = tmp_path_factory.mktemp("shared")
    data = write_toy_partnete(root / "partnete", {"few_shot": (0, 1), "val": (2,), "test": (3,)})
    runner = CliRunner()
    res = runner.invoke(cli, ["train", "partstad", "--data", str(data), "--category", "Table", "--out",
                              str(root / "pst"), "--epochs", "2", "--image-size", "48", "--proposer-steps", "2",
                              "--no-progress"])
    assert res.exit_code == 0, res.output
    from partlift.geometry.io import save_part_mesh
    from partlift.shapes import generate

    user = root / "user"
    (user / "meshes").mkdir(parents=True)
    save_part_mesh(generate("hammer", 0), user / "template.ply")
    for s in (1, 2):
        save_part_mesh(generate("hammer", s), user / "meshes" / f"m{s}.ply")
        (user / "meshes" / f"m{s}.labels.json").unlink(missing_ok=True)
    res = runner.invoke(cli, ["train", "part321", "--template", str(user / "template.ply"), "--meshes",
                              str(user / "meshes"), "--out", str(root / "p321"), "--quick", "--epochs", "1",
                              "--views", "2", "--size", "64", "--no-progress"])
    assert res.exit_code == 0, res.output
    Image.fromarray(np.full((64, 64, 3), 120, np.uint8)).save(root / "photo.png")
    write_tiny_obj(root / "quad.obj")
    return root


def _tree_hashes(*roots: Path, skip: Path | None) -> dict[str, str]:
    out = {}
    for r in roots:
        for p in sorted(r.rglob("*")) if r.exists() else []:
            if not p.is_file() or (skip is not None and (p == skip or skip in p.parents)):
                continue
            out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


# ----------------------------------------------------------------------------------------- the corpus
@dataclass
class Case:
    name: str
    build: Callable[[Path, Path], tuple[list[str], Path | None]]
    """(case folder, shared fixtures) -> (argv, output path the command may write, or None)."""
    names: str | None = None
    """A fragment the error line must contain (the file or option at fault); default: none checked."""


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _pst_model(d: Path, s: Path, damage: Callable[[Path], None]) -> Path:
    m = _copy(s / "pst", d / "model")
    damage(m)
    return m


def _p321_model(d: Path, s: Path, damage: Callable[[Path], None]) -> Path:
    m = _copy(s / "p321", d / "model")
    damage(m)
    return m


def _truncate(p: Path, keep: float = 0.5) -> None:
    data = p.read_bytes()
    p.write_bytes(data[: int(len(data) * keep)])


def _edit_json(p: Path, **changes) -> None:
    d = json.loads(p.read_text())
    d.update(changes)
    p.write_text(json.dumps(d))


def _camera(d: Path, payload) -> Path:
    p = d / "camera.json"
    p.write_text(payload if isinstance(payload, str) else json.dumps(payload))
    return p


GOOD_CAMERA = {"width": 64, "height": 64, "fx": 80.0, "fy": 80.0, "cx": 32.0, "cy": 32.0,
               "R": np.eye(3).tolist(), "t": [0.0, 0.0, 2.0]}


def _partnete_gt_pred(d: Path, pred_writer: Callable[[Path], None] | None = None) -> tuple[Path, Path]:
    from partlift.geometry.io import save_partnete_labels

    gt, pred = d / "gt", d / "pred"
    sem = np.array([0, 0, 1, 1, -1])
    (gt / "Bottle" / "s0").mkdir(parents=True)
    save_partnete_labels(gt / "Bottle" / "s0" / "label.npy", np.minimum(sem, 0), np.minimum(sem, 0))
    if pred_writer is None:
        save_partnete_prediction(pred / "Bottle" / "s0", np.minimum(sem, 0), np.minimum(sem, 0), np.array([0]),
                                 np.array([0.9]))
    else:
        (pred / "Bottle" / "s0").mkdir(parents=True)
        pred_writer(pred / "Bottle" / "s0" / "label.npy")
    return gt, pred


def _part321_gt_pred(d: Path, rotation=None) -> tuple[Path, Path]:
    pts = np.random.default_rng(0).random((10, 3))
    good = Box3D(np.zeros(3), np.array([0.4, 0.2, 0.1]), np.eye(3))
    bad = Box3D(np.zeros(3), np.array([0.4, 0.2, 0.1]), np.asarray(rotation if rotation is not None else np.eye(3)))
    mask = np.array([[0, -1], [0, 0]])
    save_part321_record(d / "gt" / "car" / "a.json", (0.1, 0.2, 0.0), {"wheel": {"points": pts, "box": good}},
                        mask, ["wheel"])
    save_part321_record(d / "pred" / "car" / "a.json", (0.1, 0.2, 0.0), {"wheel": {"points": pts, "box": bad}},
                        mask, ["wheel"])
    return d / "gt", d / "pred"


def _render(mesh_builder, *extra: str, out: str = "out"):
    def build(d: Path, s: Path):
        mesh = mesh_builder(d, s)
        return ["render", str(mesh), "--out", str(d / out), "--size", "16", "--views", "orbit:1", *extra], d / out
    return build


def _sidecar(d: Path, **fields) -> Path:
    mesh = write_tiny_obj(d / "m.obj")
    side = {"format": "partlift-labels", "version": 1, "part_names": ["a", "b"], "labels": [0, 0, 1, 1]}
    side.update(fields)
    (d / "m.labels.json").write_text(json.dumps(side))
    return mesh


def _segment(model_damage=None, input_builder=None, *extra: str):
    def build(d: Path, s: Path):
        model = _pst_model(d, s, model_damage) if model_damage else s / "pst"
        inp = input_builder(d, s) if input_builder else s / "partnete" / "test" / "Table" / "t3" / "pc.ply"
        return ["segment", str(model), str(inp), "--out", str(d / "out"), *extra], d / "out"
    return build


def _detect(model_damage=None, image_builder=None, *extra: str, camera=None):
    def build(d: Path, s: Path):
        model = _p321_model(d, s, model_damage) if model_damage else s / "p321"
        img = image_builder(d, s) if image_builder else s / "photo.png"
        cam = ["--camera", str(_camera(d, camera))] if camera is not None else []
        return ["detect", str(model), str(img), "--out", str(d / "out"), "--steps", "1", *cam, *extra], d / "out"
    return build


def _train_pst(*extra: str, data_builder=None):
    def build(d: Path, s: Path):
        data = data_builder(d, s) if data_builder else s / "partnete"
        return ["train", "partstad", "--data", str(data), "--category", "Table", "--out", str(d / "out"),
                "--no-progress", "--image-size", "48", "--epochs", "1", "--proposer-steps", "1", *extra], d / "out"
    return build


def _damaged_partnete(damage: Callable[[Path], None]):
    def data(d: Path, s: Path) -> Path:
        root = _copy(s / "partnete", d / "data")
        damage(root / "few_shot" / "Table" / "t0" / "label.npy")
        return root
    return data


def _images(*extra: str, out_builder=None):
    def build(d: Path, s: Path):
        out = out_builder(d) if out_builder else d / "out"
        return ["make-dataset", "images", "--category", "car", "--out", str(out), "--n-train-meshes", "0",
                "--n-test-meshes", "0", "--views-per-mesh", "1", "--size", "32", "--no-progress", *extra], out
    return build


def _foreign(d: Path) -> Path:
    f = d / "project"
    f.mkdir()
    (f / "config.json").write_text('{"my": "project"}')
    return f


def _partnete_like(d: Path) -> Path:
    f = d / "PartNetE"
    (f / "few_shot" / "Chair" / "1").mkdir(parents=True)
    (f / "few_shot" / "Chair" / "1" / "pc.ply").write_text("ply")
    return f


def _text_file(name: str, text: str = "not what you think"):
    def make(d: Path, s: Path) -> Path:
        p = d / name
        p.write_text(text)
        return p
    return make


def _empty_file(name: str):
    def make(d: Path, s: Path) -> Path:
        p = d / name
        p.write_bytes(b"")
        return p
    return make


CASES = [
    # ---- render: mesh files, sidecars, options, output folders
    Case("render-missing-mesh", _render(lambda d, s: d / "nope.obj"), "nope.obj"),
    Case("render-missing-unicode-name", _render(lambda d, s: d / "müll bank.obj"), "müll bank.obj"),
    Case("render-empty-obj", _render(_empty_file("empty.obj")), "empty.obj"),
    Case("render-obj-face-index-0", _render(lambda d, s: write_tiny_obj(d / "zero.obj", "f 0 1 2\n")), "zero.obj"),
    Case("render-obj-face-out-of-range", _render(lambda d, s: write_tiny_obj(d / "far.obj", "f 1 2 99\n")),
         "far.obj"),
    Case("render-obj-nan-vertex", _render(lambda d, s: write_tiny_obj(d / "nan.obj", vertices="v nan 0 0\nv 1 0 0\n"
                                                                        "v 1 1 0\nv 0 1 0\n")), "nan.obj"),
    Case("render-unsupported-suffix", _render(_text_file("mesh.txt")), "mesh.txt"),
    Case("render-truncated-ply", _render(lambda d, s: _trunc_ply(d)), "t.ply"),
    Case("render-sidecar-names-string", _render(lambda d, s: _sidecar(d, part_names="ab")), "m.labels.json"),
    Case("render-sidecar-fractional-labels", _render(lambda d, s: _sidecar(d, labels=[0.5, 0, 1, 1])),
         "m.labels.json"),
    Case("render-sidecar-label-count", _render(lambda d, s: _sidecar(d, labels=[0, 1, 1])), "m.labels.json"),
    Case("render-sidecar-label-out-of-range", _render(lambda d, s: _sidecar(d, labels=[0, 0, 1, 7])),
         "m.labels.json"),
    Case("render-sidecar-not-json", _render(lambda d, s: _bad_sidecar(d)), "m.labels.json"),
    Case("render-labels-option-missing", _render(lambda d, s: s / "quad.obj", "--labels", "nolabels.json"),
         "nolabels.json"),
    Case("render-size-0", _render(lambda d, s: s / "quad.obj", "--size", "0"), "--size"),
    Case("render-size-huge", _render(lambda d, s: s / "quad.obj", "--size", "100000"), "--size"),
    Case("render-distance-0", _render(lambda d, s: s / "quad.obj", "--distance", "0"), "--distance"),
    Case("render-distance-nan", _render(lambda d, s: s / "quad.obj", "--distance", "nan"), "--distance"),
    Case("render-fov-0", _render(lambda d, s: s / "quad.obj", "--fov", "0"), "--fov"),
    Case("render-views-orbit-0", lambda d, s: (["render", str(s / "quad.obj"), "--out", str(d / "o"), "--views",
                                               "orbit:0"], d / "o"), "--views"),
    Case("render-views-garbage", lambda d, s: (["render", str(s / "quad.obj"), "--out", str(d / "o"), "--views",
                                                "a,b"], d / "o"), "--views"),
    Case("render-out-is-a-file", lambda d, s: (["render", str(s / "quad.obj"), "--out",
                                                str(_text_file("f.txt")(d, s))], None), "f.txt"),
    Case("render-out-foreign-folder", lambda d, s: (["render", str(s / "quad.obj"), "--out", str(_foreign(d))],
                                                    None), "project"),
    Case("render-out-below-a-file", lambda d, s: (["render", str(s / "quad.obj"), "--out",
                                                   str(_text_file("g.txt")(d, s) / "sub")], None), "g.txt"),
    # ---- shapes
    Case("shapes-show-unknown", lambda d, s: (["shapes", "show", "unicorn", "--out", str(d / "u.png")],
                                              d / "u.png"), "unicorn"),
    Case("shapes-export-foreign-folder", lambda d, s: (["shapes", "export", "hammer", "--out", str(_foreign(d))],
                                                       None), "project"),
    Case("shapes-export-n-0", lambda d, s: (["shapes", "export", "hammer", "--n", "0", "--out", str(d / "o")],
                                            d / "o"), "--n"),
    # ---- make-dataset
    Case("images-unknown-category", lambda d, s: (["make-dataset", "images", "--category", "unicorn", "--out",
                                                   str(d / "o"), "--no-progress"], d / "o"), "unicorn"),
    Case("images-size-huge", _images("--size", "100000"), "--size"),
    Case("images-set-size-string", _images("--set", "size=\"abc\""), "size"),
    Case("images-set-unknown-key", _images("--set", "colour=1"), "colour"),
    Case("images-set-no-equals", _images("--set", "size"), "--set"),
    Case("images-set-pose-nan", _images("--set", "pose.theta_std_deg=NaN"), "theta_std_deg"),
    Case("images-theta-std-negative", _images("--theta-std", "-1"), "theta"),
    Case("images-theta-std-nan", _images("--theta-std", "nan"), "theta"),
    Case("images-pose-preset-9", _images("--pose-preset", "9"), "--pose-preset"),
    Case("images-out-foreign-folder", _images(out_builder=_foreign), "project"),
    Case("images-out-partnete-root", _images(out_builder=_partnete_like), "PartNetE"),
    Case("points-unknown-category", lambda d, s: (["make-dataset", "points", "--category", "Unicorn", "--out",
                                                   str(d / "o"), "--no-progress"], d / "o"), "Unicorn"),
    Case("points-n-points-0", lambda d, s: (["make-dataset", "points", "--category", "Bottle", "--out", str(d / "o"),
                                             "--n-points", "0", "--no-progress"], d / "o"), "--n-points"),
    Case("points-out-partnete-root", lambda d, s: (["make-dataset", "points", "--category", "Bottle", "--out",
                                                    str(_partnete_like(d)), "--no-progress"], None), "PartNetE"),
    # ---- train partstad
    Case("train-pst-unknown-category", lambda d, s: (["train", "partstad", "--data", str(s / "partnete"),
                                                      "--category", "Chair", "--out", str(d / "o")], d / "o"),
         "Chair"),
    Case("train-pst-epochs-0", _train_pst("--epochs", "0"), "epochs"),
    Case("train-pst-epochs-negative", _train_pst("--epochs", "-1"), "epochs"),
    Case("train-pst-image-size-0", _train_pst("--image-size", "0"), "image"),
    Case("train-pst-superpoint-reg-nan", _train_pst("--superpoint-reg", "nan"), "reg"),
    Case("train-pst-pickle-label", _train_pst(data_builder=_damaged_partnete(
        lambda p: evil_npy(p, p.parent / "PWNED"))), "label.npy"),
    Case("train-pst-fractional-labels", _train_pst(data_builder=_damaged_partnete(
        lambda p: np.save(p, {"semantic_seg": np.full(400, 0.5), "instance_seg": np.zeros(400)},
                          allow_pickle=True))), "label.npy"),
    Case("train-pst-label-count", _train_pst(data_builder=_damaged_partnete(
        lambda p: np.save(p, {"semantic_seg": np.zeros(7, int), "instance_seg": np.zeros(7, int)},
                          allow_pickle=True))), "label.npy"),
    Case("train-pst-truncated-label", _train_pst(data_builder=_damaged_partnete(_truncate)), "label.npy"),
    Case("train-pst-out-is-a-file", lambda d, s: (["train", "partstad", "--data", str(s / "partnete"), "--category",
                                                   "Table", "--out", str(_text_file("f")(d, s))], None), "f"),
    # ---- segment
    Case("segment-not-a-model", _segment(input_builder=None, model_damage=lambda m: [
        p.unlink() for p in m.rglob("*") if p.is_file()]), "model"),
    Case("segment-empty-weights", _segment(model_damage=lambda m: (m / "weights.pt").write_bytes(b"")),
         "weights.pt"),
    Case("segment-truncated-weights", _segment(model_damage=lambda m: _truncate(m / "weights.pt")), "weights.pt"),
    Case("segment-pickle-weights", _segment(model_damage=lambda m: evil_pickle(m / "weights.pt", m / "PWNED")),
         "weights.pt"),
    Case("segment-config-typo", _segment(model_damage=lambda m: _edit_json(m / "config.json", weights="learnd")),
         "config.json"),
    Case("segment-config-not-json", _segment(model_damage=lambda m: (m / "config.json").write_text("{")),
         "config.json"),
    Case("segment-input-txt", _segment(input_builder=_text_file("cloud.txt")), "cloud.txt"),
    Case("segment-input-empty-ply", _segment(input_builder=_empty_file("cloud.ply")), "cloud.ply"),
    Case("segment-points-0", _segment(None, lambda d, s: s / "quad.obj", "--points", "0"), "--points"),
    Case("segment-wrong-category", _segment(None, None, "--category", "Chair"), "Chair"),
    Case("segment-out-is-the-input", lambda d, s: (["segment", str(s / "pst"), str(_copy_file(
        s / "partnete" / "test" / "Table" / "t3" / "pc.ply", d / "pc.ply")), "--out", str(d / "pc.ply")], None),
        "pc.ply"),
    # ---- detect
    Case("detect-missing-feature-net", _detect(lambda m: (m / "feature_net.pt").unlink()), "feature_net.pt"),
    Case("detect-empty-feature-net", _detect(lambda m: (m / "feature_net.pt").write_bytes(b"")), "feature_net.pt"),
    Case("detect-pickle-feature-net", _detect(lambda m: evil_pickle(m / "feature_net.pt", m / "PWNED")),
         "feature_net.pt"),
    Case("detect-truncated-neural-mesh", _detect(lambda m: _truncate(m / "neural_mesh.pt")), "neural_mesh.pt"),
    Case("detect-config-typo", _detect(lambda m: _edit_json(m / "config.json", backbone="cnnn")), "config.json"),
    Case("detect-image-not-an-image", _detect(None, _text_file("fake.png")), "fake.png"),
    Case("detect-image-empty", _detect(None, _empty_file("empty.png")), "empty.png"),
    Case("detect-camera-not-json", _detect(camera="{"), "camera.json"),
    Case("detect-camera-a-list", _detect(camera=[1, 2, 3]), "camera.json"),
    Case("detect-camera-missing-keys", _detect(camera={"width": 64}), "camera.json"),
    Case("detect-camera-zero-focal", _detect(camera={**GOOD_CAMERA, "fx": 0.0}), "camera.json"),
    Case("detect-camera-nan", _detect(camera={**GOOD_CAMERA, "t": [0.0, float("nan"), 2.0]}), "camera.json"),
    Case("detect-steps-negative", lambda d, s: (["detect", str(s / "p321"), str(s / "photo.png"), "--out",
                                                 str(d / "o"), "--steps", "-1"], d / "o"), "--steps"),
    Case("detect-out-is-the-image", lambda d, s: (["detect", str(s / "p321"), str(_copy_file(
        s / "photo.png", d / "photo.png")), "--out", str(d / "photo.png"), "--steps", "1"], None), "photo.png"),
    Case("detect-out-foreign-folder", lambda d, s: (["detect", str(s / "p321"), str(s / "photo.png"), "--out",
                                                     str(_foreign(d)), "--steps", "1"], None), "project"),
    # ---- eval
    Case("eval-pst-missing-gt", lambda d, s: (["eval", "partstad", "--gt", str(d / "nogt"), "--pred", str(d)],
                                              None), "nogt"),
    Case("eval-pst-pickle-pred", lambda d, s: (["eval", "partstad", *_gp(_partnete_gt_pred(
        d, lambda p: evil_npy(p, p.parent / "PWNED")))], None), "label.npy"),
    Case("eval-pst-fractional-pred", lambda d, s: (["eval", "partstad", *_gp(_partnete_gt_pred(
        d, lambda p: np.save(p, {"semantic_seg": np.full(5, 0.5), "instance_seg": np.zeros(5)},
                             allow_pickle=True)))], None), "label.npy"),
    Case("eval-pst-iou-threshold-1.5", lambda d, s: (["eval", "partstad", *_gp(_partnete_gt_pred(d)),
                                                      "--iou-threshold", "1.5"], None), "--iou-threshold"),
    Case("eval-pst-iou-threshold-nan", lambda d, s: (["eval", "partstad", *_gp(_partnete_gt_pred(d)),
                                                      "--iou-threshold", "nan"], None), "--iou-threshold"),
    Case("eval-321-singular-box", lambda d, s: (["eval", "part321", *_gp(_part321_gt_pred(
        d, rotation=np.diag([1.0, 1.0, 0.0])))], None), "a.json"),
    Case("eval-321-record-not-json", lambda d, s: (["eval", "part321", *_gp(_broken_record(d))], None), "a.json"),
    Case("eval-json-out-is-a-folder", lambda d, s: (["eval", "partstad", *_gp(_partnete_gt_pred(d)), "--json",
                                                     str(_mkdir(d / "scores.json"))], None), "scores.json"),
    # ---- report, demo, bench
    Case("report-not-a-run", lambda d, s: (["report", str(_mkdir(d / "run"))], None), "run"),
    Case("report-truncated-results", lambda d, s: (["report", str(_fake_run(d))], None), "results.json"),
    Case("demo-out-is-a-file", lambda d, s: (["demo", "--quick", "--out", str(_text_file("run")(d, s))], None),
         "run"),
    Case("demo-out-foreign-folder", lambda d, s: (["demo", "--quick", "--out", str(_foreign(d))], None), "project"),
    Case("demo-zero-workers", lambda d, s: (["demo", "--quick", "--workers", "0", "--out", str(d / "run")], d / "run"),
         "--workers"),
    Case("bench-p321-zero-workers", lambda d, s: (["bench", "part321", "--workers", "0", "--workdir", str(d / "w"),
                                                   "--no-progress"], d / "w"), "--workers"),
    Case("bench-pst-unknown-category", lambda d, s: (["bench", "partstad", "--categories", "Unicorn", "--workdir",
                                                      str(d / "w"), "--no-progress"], d / "w"), "Unicorn"),
    Case("bench-pst-test-shapes-0", lambda d, s: (["bench", "partstad", "--test-shapes", "0", "--workdir",
                                                   str(d / "w"), "--no-progress"], d / "w"), "--test-shapes"),
    Case("bench-321-unknown-category", lambda d, s: (["bench", "part321", "--categories", "unicorn", "--workdir",
                                                      str(d / "w"), "--no-progress"], d / "w"), "unicorn"),
    Case("bench-transfer-unknown-method", lambda d, s: (["bench", "transfer", "--methods", "magic",
                                                         "--no-progress"], None), "magic"),
    # ---- the command line itself
    Case("unknown-command", lambda d, s: (["frobnicate"], None), "frobnicate"),
    Case("unknown-option", lambda d, s: (["render", str(s / "quad.obj"), "--colour", "red"], None), "--colour"),
    Case("missing-argument", lambda d, s: (["segment"], None), "MODEL_DIR"),
]


def _trunc_ply(d: Path) -> Path:
    import trimesh

    p = d / "t.ply"
    trimesh.creation.box().export(p)
    _truncate(p, 0.6)
    return p


def _bad_sidecar(d: Path) -> Path:
    mesh = write_tiny_obj(d / "m.obj")
    (d / "m.labels.json").write_text("{not json")
    return mesh


def _copy_file(src: Path, dst: Path) -> Path:
    shutil.copyfile(src, dst)
    return dst


def _mkdir(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p


def _gp(gt_pred: tuple[Path, Path]) -> list[str]:
    return ["--gt", str(gt_pred[0]), "--pred", str(gt_pred[1])]


def _broken_record(d: Path) -> tuple[Path, Path]:
    gt, pred = _part321_gt_pred(d)
    (pred / "car" / "a.json").write_text('{"format": ')
    return gt, pred


def _fake_run(d: Path) -> Path:
    run = d / "run"
    (run / "stages").mkdir(parents=True)
    (run / "partstad").mkdir()
    (run / "run.json").write_text(json.dumps({"format": "partlift-demo/1", "provenance": {}, "stage_seconds": {},
                                              "reused_stages": [], "wall_seconds_this_run": 0}))
    (run / "config.json").write_text("{}")
    (run / "partstad" / "results.json").write_text('{"methods": {"partstad": {"miou": 0.')
    return run


def test_the_corpus_is_large_and_names_are_unique():
    assert len(CASES) >= 60
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_gives_one_line(case: Case, shared, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PARTLIFT_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("PARTLIFT_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)
    argv, out = case.build(tmp_path, shared)
    before = _tree_hashes(tmp_path, shared, skip=out)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert exc.value.code == 2, f"exit {exc.value.code}: {err}"
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    if case.names:
        assert case.names in lines[0], lines[0]
    after = _tree_hashes(tmp_path, shared, skip=out)
    changed = sorted(set(before) ^ set(after) | {k for k in before if k in after and before[k] != after[k]})
    changed = [c for c in changed if "/cache/" not in c]  # the embedded-data cache is partlift's own
    assert not changed, f"files changed outside the output: {changed}"
    assert not list(tmp_path.rglob("PWNED")) and not list(shared.rglob("PWNED")), "a loader executed a pickle"


def test_debug_shows_the_traceback(shared, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PARTLIFT_DEBUG", "1")
    with pytest.raises(SystemExit) as exc:
        main(["render", str(tmp_path / "missing.obj"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "Traceback" in err and err.strip().splitlines()[-1].startswith("error: ")


def test_an_internal_error_is_one_line_with_status_1(tmp_path, capsys, monkeypatch):
    import partlift.commands.shapes as shapes_cmd

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(shapes_cmd, "contact_sheet", broken, raising=False)
    monkeypatch.setattr("partlift.shapes.contact_sheet.contact_sheet", broken)
    with pytest.raises(SystemExit) as exc:
        main(["shapes", "show", "hammer", "--n", "1", "--out", str(tmp_path / "h.png")])
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 1 and len(err) == 1 and err[0].startswith("internal error: ZeroDivisionError")
