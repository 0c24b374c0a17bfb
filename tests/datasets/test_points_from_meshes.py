"""`make-dataset points --meshes DIR`: a PartNetE-layout few-shot set from a user's labelled meshes."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from partlift.cli import main
from partlift.datasets.loaders import load_partnete_split
from partlift.datasets.points import PointsDatasetConfig, generate_points_dataset, split_mesh_folder
from partlift.errors import PartliftError
from partlift.geometry.io import load_part_mesh, save_part_mesh
from partlift.geometry.normalize import unit_box_normalization
from partlift.shapes.registry import generate


@pytest.fixture(scope="module")
def mesh_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """5 labelled kettles, moved and scaled out of the unit box (the command must normalise them)."""
    folder = tmp_path_factory.mktemp("meshes") / "my_kettles"
    folder.mkdir()
    for i in range(5):
        m = generate("Kettle", 300 + i)
        save_part_mesh(m.copy(vertices=(m.vertices * (2.0 + i) + [1.0, -2.0, 0.5]).astype(np.float32)),
                       folder / f"kettle_{i}.obj")
    return folder


def _config(folder: Path, seed: int = 0) -> PointsDatasetConfig:
    return PointsDatasetConfig(category="my_kettles", n_few_shot=2, n_val=1, n_test=5, n_points=1024, seed=seed,
                               meshes=str(folder), visibility_views=6, visibility_size=64)


def test_split_rule_is_a_seeded_shuffle_and_refuses_too_few_meshes():
    counts = {"few_shot": 2, "val": 1, "test": 5}
    a = split_mesh_folder(5, counts, 0)
    assert sorted(a["few_shot"] + a["val"] + a["test"]) == list(range(5))
    assert (len(a["few_shot"]), len(a["val"]), len(a["test"])) == (2, 1, 2)
    assert split_mesh_folder(5, counts, 0) == a
    assert any(split_mesh_folder(5, counts, s) != a for s in range(1, 6))
    with pytest.raises(PartliftError, match="has 3 meshes"):
        split_mesh_folder(3, counts, 0, "dir")


def _nearest_face_labels(mesh, points: np.ndarray) -> np.ndarray:
    """Brute force: the label of the nearest face centroid's majority vertex, for each point."""
    tri = mesh.vertices[mesh.faces]
    centres = tri.mean(axis=1)
    d = ((points[:, None, :] - centres[None]) ** 2).sum(-1)
    face = d.argmin(axis=1)
    return np.asarray(mesh.face_labels())[face]


def test_points_follow_the_source_meshes_labels(mesh_folder: Path, tmp_path: Path):
    cfg = _config(mesh_folder)
    root = generate_points_dataset(cfg, tmp_path / "pts", progress=False, log=None)
    meta = json.loads((root / "meta.json").read_text())
    source = load_part_mesh(sorted(mesh_folder.glob("*.obj"))[0])
    assert meta == {"my_kettles": list(source.part_names)}
    shapes = cfg.shapes()
    for split, n in (("few_shot", 2), ("val", 1), ("test", 2)):
        clouds = load_partnete_split(root, split, "my_kettles")
        assert len(clouds) == n == len(shapes[split])
        for index, cloud in zip(shapes[split], clouds, strict=True):
            mesh = load_part_mesh(sorted(mesh_folder.glob("*.obj"))[index])
            mesh = mesh.copy(vertices=unit_box_normalization(mesh.vertices).apply(mesh.vertices))
            pts = cloud.points
            assert np.abs(pts).max() <= 0.5 + 1e-3  # in the unit box, like the procedural shapes
            agree = (_nearest_face_labels(mesh, pts) == cloud.labels).mean()
            assert agree > 0.9, f"{split} mesh {index}: {agree:.2f} of labels agree with the nearest face"


def test_rerun_reuses_and_seed_changes_the_split(mesh_folder: Path, tmp_path: Path):
    root = generate_points_dataset(_config(mesh_folder), tmp_path / "pts", progress=False, log=None)
    files = sorted(root.rglob("pc.ply"))
    stamps = [f.stat().st_mtime_ns for f in files]
    generate_points_dataset(_config(mesh_folder), tmp_path / "pts", progress=False, log=None)
    assert [f.stat().st_mtime_ns for f in files] == stamps
    assert _config(mesh_folder, 0).shapes() != _config(mesh_folder, 3).shapes()


def test_rerun_after_the_folder_changed_is_refused(mesh_folder: Path, tmp_path: Path):
    import shutil

    folder = tmp_path / "mine"
    shutil.copytree(mesh_folder, folder)
    cfg = replace(_config(folder), n_test=1)
    root = generate_points_dataset(cfg, tmp_path / "pts", progress=False, log=None)
    sources = json.loads((root / "manifests" / "my_kettles.json").read_text())["sources"]
    assert sorted(sources) == sorted(p.name for p in folder.glob("*.obj"))
    generate_points_dataset(cfg, tmp_path / "pts", progress=False, log=None)  # unchanged: reused
    edited = folder / "kettle_3.obj"
    edited.write_text(edited.read_text() + "\n# edited\n")
    with pytest.raises(PartliftError, match=r"other input files \(kettle_3.obj changed"):
        generate_points_dataset(cfg, tmp_path / "pts", progress=False, log=None)


def _cli(argv: list[str], capsys) -> tuple[int, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


def test_cli_errors_are_one_line(mesh_folder: Path, tmp_path: Path, capsys):
    bad = tmp_path / "bad"
    bad.mkdir()
    m = generate("Kettle", 1)
    save_part_mesh(m, bad / "a.obj")
    save_part_mesh(m.copy(part_names=tuple(reversed(m.part_names))), bad / "b.obj")
    base = ["make-dataset", "points", "--out", str(tmp_path / "o"), "--no-progress", "--n-few-shot", "1",
            "--n-val", "0"]
    code, err = _cli([*base, "--meshes", str(bad)], capsys)
    assert code == 2 and "b.obj: part names" in err and len(err.strip().splitlines()) == 1
    (bad / "b.labels.json").unlink()
    code, err = _cli([*base, "--meshes", str(bad)], capsys)
    assert code == 2 and "b.obj: no part labels" in err
    code, err = _cli([*base, "--meshes", str(mesh_folder), "--n-few-shot", "8"], capsys)
    assert code == 2 and "has 5 meshes" in err
    code, err = _cli([*base, "--meshes", str(mesh_folder), "--category", "a", "--category", "b"], capsys)
    assert code == 2 and "--category" in err
    code, err = _cli(["make-dataset", "points", "--out", str(tmp_path / "o2")], capsys)
    assert code == 2 and "--meshes" in err


def test_images_of_own_meshes_with_a_template(mesh_folder: Path, tmp_path: Path, capsys):
    from partlift.datasets.images import ImageDatasetConfig, generate_image_dataset
    from partlift.datasets.loaders import ImageDataset

    template = sorted(mesh_folder.glob("*.obj"))[0]
    cfg = ImageDatasetConfig(category="my_kettles", n_train_meshes=2, n_test_meshes=2, views_per_mesh=2,
                             template_views=2, size=32, meshes=str(mesh_folder), template=str(template))
    root = generate_image_dataset(cfg, tmp_path / "imgs", progress=False, log=None)
    splits = json.loads((root / "splits.json").read_text())
    assert [len(splits[s]) for s in ("template", "train", "test")] == [1, 2, 2]
    assert not set(splits["train"]) & set(splits["test"])
    test = ImageDataset(root, "test")
    sample = test[0]
    source = load_part_mesh(sorted(mesh_folder.glob("*.obj"))[int(sample.shape_id.rsplit("_", 1)[1]) - 1])
    # the test mesh stored is the source mesh, normalised into the unit box
    stored = test.mesh(sample.shape_id)
    expect = unit_box_normalization(source.vertices).apply(source.vertices)
    np.testing.assert_allclose(stored.vertices, expect, atol=1e-4)
    assert sample.mask is not None and (sample.mask >= 0).any()
    assert stored.part_names == source.part_names
    # one-line errors
    unlabelled = tmp_path / "plain"
    unlabelled.mkdir()
    save_part_mesh(generate("Kettle", 9), unlabelled / "a.obj")
    (unlabelled / "a.labels.json").unlink()
    code, err = _cli(["make-dataset", "images", "--meshes", str(mesh_folder), "--template", str(unlabelled / "a.obj"),
                      "--out", str(tmp_path / "x"), "--no-progress"], capsys)
    assert code == 2 and "no part labels" in err and len(err.strip().splitlines()) == 1
    code, err = _cli(["make-dataset", "images", "--meshes", str(mesh_folder), "--out", str(tmp_path / "y")], capsys)
    assert code == 2 and "--template" in err
