import json

import numpy as np
import pytest
import trimesh
from click.testing import CliRunner
from PIL import Image

from partlift.cli import cli
from partlift.geometry import PartMesh
from partlift.geometry.io import save_part_mesh
from partlift.render import Camera, rasterize


@pytest.fixture
def labelled_mesh(tmp_path):
    a = trimesh.creation.box(extents=(1, 1, 1))
    b = trimesh.creation.icosphere(2, radius=0.4)
    b.apply_translation((0, 0.8, 0))
    m = PartMesh(
        np.concatenate([a.vertices, b.vertices]), np.concatenate([a.faces, b.faces + len(a.vertices)]),
        labels=np.r_[np.zeros(len(a.vertices)), np.ones(len(b.vertices))].astype(int),
        part_names=("base", "ball"), name="toy",
    )
    path = tmp_path / "toy.ply"
    save_part_mesh(m, path)
    return path


def test_render_writes_documented_files(labelled_mesh, tmp_path):
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["render", str(labelled_mesh), "--out", str(out), "--size", "48",
                                   "--views", "10,0;40,120", "--normalize", "none"])
    assert res.exit_code == 0, res.output
    for k in range(2):
        stem = out / f"view_{k:03d}"
        rgb = np.asarray(Image.open(f"{stem}.png"))
        assert rgb.shape == (48, 48, 3)
        fid = np.load(f"{stem}_face_ids.npy")
        cam = Camera.load_json(f"{stem}_camera.json")
        # the saved camera reproduces the saved face ids
        again = rasterize(trimesh.load(labelled_mesh, process=False).vertices,
                          trimesh.load(labelled_mesh, process=False).faces, cam)
        assert (again.face_ids[0] == fid).all()
        labels = np.load(f"{stem}_labels.npy")
        assert set(np.unique(labels)) == {-1, 0, 1}
        assert ((labels >= 0) == (fid >= 0)).all()
        depth = np.load(f"{stem}_depth.npy")
        assert np.isinf(depth[fid < 0]).all() and np.isfinite(depth[fid >= 0]).all()
    meta = json.loads((out / "render_config.json").read_text())
    assert meta["config"]["size"] == 48 and meta["part_names"] == ["base", "ball"]


def test_render_rejects_bad_views(labelled_mesh, tmp_path):
    res = CliRunner().invoke(cli, ["render", str(labelled_mesh), "--out", str(tmp_path), "--views", "orbit:0"])
    assert res.exit_code == 2 and "positive view count" in res.output


def test_shaded_view_of_an_uncoloured_mesh_is_grey_not_part_coloured(labelled_mesh, tmp_path):
    from partlift.render.shading import part_palette

    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["render", str(labelled_mesh), "--out", str(out), "--size", "48",
                                   "--views", "10,0", "--normalize", "none"])
    assert res.exit_code == 0, res.output
    shaded = np.asarray(Image.open(out / "view_000.png")).astype(int)
    parts = np.asarray(Image.open(out / "view_000_parts.png")).astype(int)
    fg = np.load(out / "view_000_face_ids.npy") >= 0
    spread = shaded[fg].max(1) - shaded[fg].min(1)  # grey: the three channels agree
    assert spread.max() <= 2
    pal = part_palette(2).astype(int)
    assert any((np.abs(parts[fg] - c).sum(1) < 40).mean() > 0.05 for c in pal)


def test_a_second_render_with_fewer_views_removes_the_stale_ones(labelled_mesh, tmp_path):
    out = tmp_path / "out"
    runner = CliRunner()
    assert runner.invoke(cli, ["render", str(labelled_mesh), "--out", str(out), "--size", "16", "--views",
                               "orbit:3"]).exit_code == 0
    assert (out / "view_002.png").exists()
    res = runner.invoke(cli, ["render", str(labelled_mesh), "--out", str(out), "--size", "16", "--views", "orbit:1"])
    assert res.exit_code == 0 and "removed" in res.output
    assert sorted(p.name for p in out.glob("view_*.png")) == ["view_000.png", "view_000_parts.png"]
