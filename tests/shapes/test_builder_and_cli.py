"""ShapeBuilder bookkeeping, contact sheets and the ``partlift shapes`` commands."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from helpers import assert_close
from partlift.cli import cli
from partlift.geometry.io import load_part_mesh
from partlift.shapes import generate
from partlift.shapes import primitives as P
from partlift.shapes.builder import ShapeBuilder, pose, slot_key
from partlift.shapes.contact_sheet import contact_sheet


def small_builder():
    b = ShapeBuilder("Thing", ("leg", "top"), {"body": None, "slab": "top"}, seed=3)
    b.add(P.box((1.0, 0.1, 1.0), 1), "slab", "top", matrix=pose((0.0, 1.0, 0.0)))
    for k, x in enumerate((-0.4, 0.4)):
        b.add(P.cylinder(0.05, 1.0, 8), f"leg#leg_{k}", f"leg_{k}", matrix=pose((x, 0.5, 0.0)))
    b.add(P.sphere(0.1, 8, 4), "body", "blob", matrix=pose((0.0, 0.2, 0.0)))
    return b


def test_builder_labels_instances_keys_and_normalisation():
    m = small_builder().finish()
    assert m.part_names == ("leg", "top") and m.name == "Thing_000003"
    n_box = len(P.box((1.0, 0.1, 1.0), 1).vertices)
    n_leg = len(P.cylinder(0.05, 1.0, 8).vertices)
    assert (m.labels[:n_box] == 1).all()
    assert (m.labels[n_box : n_box + 2 * n_leg] == 0).all()
    assert (m.labels[n_box + 2 * n_leg :] == -1).all()  # mapped to None -> unlabelled
    # the two legs are two instances of one part, the slab one more; unlabelled -> -1
    assert len(np.unique(m.instances[m.labels == 0])) == 2
    assert len(np.unique(m.instances[m.labels == 1])) == 1
    assert (m.instances[m.labels == -1] == -1).all()
    keys = m.extras["part_instance_key"]
    assert keys[0] == slot_key("top", "slab") and len(np.unique(keys)) == 4
    assert m.extras["part_keys"][slot_key("leg_1", "leg#leg_1")] == "leg_1|leg#leg_1"
    lo, hi = m.bounds()
    assert_close((hi - lo).max(), 1.0, atol=1e-6)
    assert_close((hi + lo) / 2, np.zeros(3), atol=1e-6)
    # relative geometry preserved: the slab is above the legs
    assert m.vertices[m.labels == 1, 1].min() > m.vertices[m.labels == 0, 1].mean()


def test_slot_keys_are_stable_and_distinct():
    assert slot_key("leg_0", "leg") == slot_key("leg_0", "leg")
    assert len({slot_key(f"leg_{k}", r) for k in range(50) for r in ("leg", "body")}) == 100
    assert slot_key("leg_0", "leg") >= 0


def test_builder_rejects_mistakes():
    b = ShapeBuilder("Thing", ("leg",))
    b.add(P.sphere(1.0, 8, 4), "leg", "a")
    with pytest.raises(ValueError, match="added twice"):
        b.add(P.sphere(1.0, 8, 4), "leg", "a")
    b.add(P.sphere(1.0, 8, 4), "tail", "b")
    with pytest.raises(ValueError, match="not one of the parts"):
        b.finish()
    with pytest.raises(ValueError, match="region names"):
        ShapeBuilder("Thing", ("leg",)).add(P.sphere(1.0, 8, 4), ["leg"] * 3, "c")


def test_mirroring_keeps_faces_outward():
    b = ShapeBuilder("Thing", ("leg",))
    mirror = np.diag([-1.0, 1.0, 1.0, 1.0])
    b.add(P.extrude(np.array([[0, 0], [2, 0], [2, 1], [1, 0.4], [0, 1.0]]), 0.5), "leg", "a", matrix=mirror)
    m = b.finish()
    tri = m.vertices[m.faces].astype(np.float64)
    assert np.einsum("ij,ij->i", tri[:, 0], np.cross(tri[:, 1], tri[:, 2])).sum() > 0


def test_contact_sheet_writes_a_grid(tmp_path):
    meshes = [generate("hammer", s) for s in range(3)]
    out = contact_sheet(meshes, tmp_path / "sheet.png", cols=2, tile=64)
    img = np.asarray(Image.open(out).convert("RGB"))
    assert img.shape[1] == 128 and img.shape[0] > 128  # 2 rows of 64 px plus the legend
    assert (img < 200).any(axis=2).mean() > 0.02  # something was drawn


def test_cli_list_show_export(tmp_path):
    runner = CliRunner()
    res = runner.invoke(cli, ["shapes", "list", "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert {"car", "Chair"} <= {r["name"] for r in rows}
    res = runner.invoke(cli, ["shapes", "list", "--kind", "partnete"])
    assert res.exit_code == 0 and "Chair" in res.output and "airliner" not in res.output

    png = tmp_path / "chairs.png"
    res = runner.invoke(cli, ["shapes", "show", "Chair", "--n", "2", "--tile", "48", "--out", str(png)])
    assert res.exit_code == 0, res.output
    assert Image.open(png).size[0] == 96

    out = tmp_path / "exp"
    res = runner.invoke(cli, ["shapes", "export", "Table", "--n", "2", "--seed", "4", "--out", str(out)])
    assert res.exit_code == 0, res.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert [i["seed"] for i in manifest["instances"]] == [4, 5]
    for inst in manifest["instances"]:
        ref = generate("Table", inst["seed"])
        loaded = load_part_mesh(out / inst["mesh"])
        np.testing.assert_array_equal(loaded.labels, ref.labels)
        assert loaded.part_names == ref.part_names
        assert_close(loaded.vertices, ref.vertices, atol=1e-6)
        corr = np.load(out / inst["corr"])
        np.testing.assert_array_equal(corr["part_instance_key"], ref.extras["part_instance_key"])
        assert_close(corr["corr"], ref.extras["corr"], atol=0)


def test_cli_reports_unknown_categories():
    from partlift.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["shapes", "show", "spaceship", "--out", "/tmp/never.png"])
    assert exc.value.code == 2


def test_every_category_has_a_documented_contact_sheet():
    from pathlib import Path

    from partlift.shapes import list_categories

    docs = Path(__file__).resolve().parents[2] / "docs"
    text = (docs / "SHAPES.md").read_text()
    for c in list_categories():
        sheet = docs / "shapes" / f"{c}.png"
        assert sheet.exists(), f"missing contact sheet {sheet}"
        assert f"](shapes/{c}.png)" in text, f"docs/SHAPES.md does not embed the {c} sheet"
        w, h = Image.open(sheet).size
        assert w <= 1024 and h <= 1024
