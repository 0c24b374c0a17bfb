"""Part321 loaders refuse malicious, damaged, foreign and older-format files with one-line ReadErrors.

Every crafted file would create a marker file when unpickled; the loaders must raise before that.
"""

from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np
import pytest
import torch
from part321_fixtures import toy_mesh, toy_neural_mesh

from helpers import assert_close, assert_refused, write_malicious_checkpoint
from partlift.errors import ReadError
from partlift.models.seg2d import Seg2DConfig, Seg2DNet
from partlift.part321.baseline2d import Seg2DBaseline, Seg2DTrainConfig
from partlift.part321.deformation import DeformationConfig, DeformationNet, Deformer
from partlift.part321.model import MODEL_VERSION, Part321, Part321Config, build_backbone, saved_model_version
from partlift.part321.neural_mesh import DeformableNeuralMesh

TINY = dict(feature_dim=8, cnn_widths=(4, 4, 8, 8, 8))


def _deformer(latent_dim=3) -> Deformer:
    cfg = DeformationConfig(hidden=16, layers=2)
    return Deformer.from_state({"config": asdict(cfg), "latent_dim": latent_dim,
                                "net": DeformationNet(latent_dim, cfg).state_dict()})


@pytest.fixture
def model_dir(tmp_path):
    """An untrained but complete Part321 model folder (no training needed to test loading)."""
    model = Part321(Part321Config(**TINY))
    nm = toy_neural_mesh(dim=8)
    nm.deformer = _deformer(1)
    model.mesh, model.net = nm, build_backbone(model.config).eval()
    model.meta = {"category": "toy", "image_size": [64, 64], "focal": 80.0, "distance": 3.0}
    return model.save(tmp_path / "model"), model


def test_model_folder_round_trip(model_dir):
    folder, model = model_dir
    assert json.loads((folder / "config.json").read_text())["version"] == MODEL_VERSION
    back = Part321.load(folder)
    for name in ("vertices", "faces", "features", "labels", "latents", "clutter"):
        assert_close(getattr(back.mesh, name), getattr(model.mesh, name), atol=0, msg=name)
        assert getattr(back.mesh, name).dtype == getattr(model.mesh, name).dtype
    for a, b in zip(back.net.parameters(), model.net.parameters(), strict=True):
        assert torch.equal(a, b)
    assert back.meta == model.meta and back.mesh.part_names == model.mesh.part_names


@pytest.mark.parametrize("name", ["neural_mesh.pt", "feature_net.pt"])
def test_model_folder_refuses_malicious_and_empty_checkpoints(model_dir, tmp_path, name):
    folder, _ = model_dir
    marker = tmp_path / "ran"
    write_malicious_checkpoint(folder / name, marker, keys=("format", "version", "state"))
    with pytest.raises(ReadError, match="refused to unpickle") as e:
        Part321.load(folder)
    assert_refused(e, folder / name, marker)
    (folder / name).write_bytes(b"")
    with pytest.raises(ReadError, match="is empty \\(0 bytes\\); retrain or copy the model again") as e:
        Part321.load(folder)
    assert_refused(e, folder / name)


def test_model_folder_refuses_weights_of_another_network(model_dir):
    folder, _ = model_dir
    other = build_backbone(Part321Config(feature_dim=8, cnn_widths=(4, 4, 8, 8, 16)))
    torch.save({"state": other.state_dict()}, folder / "feature_net.pt")
    with pytest.raises(ReadError, match="does not fit this Part321 feature network.*has shape") as e:
        Part321.load(folder)
    assert_refused(e, folder / "feature_net.pt")


def test_older_model_format_says_retrain(model_dir):
    folder, model = model_dir
    cfg = json.loads((folder / "config.json").read_text())
    assert saved_model_version(folder) == MODEL_VERSION
    (folder / "config.json").write_text(json.dumps({**cfg, "version": 1}))
    assert saved_model_version(folder) == 1  # the benches retrain such a model instead of loading it
    # what format 1 held: numpy arrays pickled into neural_mesh.pt
    old = {**model.mesh.state(), "version": 1, "vertices": model.mesh.vertices}
    torch.save(old, folder / "neural_mesh.pt")
    with pytest.raises(ReadError, match="format 1.*retrain it with `partlift train part321`") as e:
        Part321.load(folder)
    assert_refused(e, folder)
    # the neural mesh file on its own: refused without unpickling the arrays
    with pytest.raises(ReadError, match="numpy.*older partlift") as e:
        DeformableNeuralMesh.load(folder / "neural_mesh.pt")
    assert_refused(e, folder / "neural_mesh.pt")


def test_neural_mesh_file(tmp_path):
    nm = toy_neural_mesh(dim=8)
    nm.save(tmp_path / "nm.pt")
    back = DeformableNeuralMesh.load(tmp_path / "nm.pt")
    assert_close(back.features, nm.features, atol=0) and back.deformer is None
    marker = tmp_path / "ran"
    write_malicious_checkpoint(tmp_path / "evil.pt", marker, keys=("format", "vertices"))
    with pytest.raises(ReadError) as e:
        DeformableNeuralMesh.load(tmp_path / "evil.pt")
    assert_refused(e, tmp_path / "evil.pt", marker)
    torch.save({**nm.state(), "faces": "nonsense"}, tmp_path / "bad.pt")
    with pytest.raises(ReadError, match="damaged neural mesh") as e:
        DeformableNeuralMesh.load(tmp_path / "bad.pt")
    assert_refused(e, tmp_path / "bad.pt")


def test_deformer_file(tmp_path):
    d = _deformer()
    d.save(tmp_path / "d.pt")
    back = Deformer.load(tmp_path / "d.pt")
    v, z = toy_mesh(subdiv=0).vertices, np.eye(3, dtype=np.float32)[1]
    assert_close(back.predict(v, z), d.predict(v, z), atol=0)
    marker = tmp_path / "ran"
    write_malicious_checkpoint(tmp_path / "evil.pt", marker, keys=("config", "latent_dim", "net"))
    with pytest.raises(ReadError, match="refused to unpickle") as e:
        Deformer.load(tmp_path / "evil.pt")
    assert_refused(e, tmp_path / "evil.pt", marker)
    torch.save({**d.state(), "latent_dim": 4}, tmp_path / "other.pt")
    with pytest.raises(ReadError, match="does not fit this deformation network") as e:
        Deformer.load(tmp_path / "other.pt")
    assert_refused(e, tmp_path / "other.pt")


def test_baseline2d_file(tmp_path):
    b = Seg2DBaseline(Seg2DTrainConfig(width=4, depth=2))
    b.part_names = ("a", "b")
    b.net = Seg2DNet(Seg2DConfig(2, "cnn", 4, 2)).eval()
    b.save(tmp_path / "b.pt")
    img = np.random.default_rng(0).integers(0, 255, (32, 32, 3)).astype(np.uint8)
    assert (Seg2DBaseline.load(tmp_path / "b.pt").predict(img) == b.predict(img)).all()
    marker = tmp_path / "ran"
    write_malicious_checkpoint(tmp_path / "evil.pt", marker, keys=("config", "part_names", "state"))
    with pytest.raises(ReadError, match="refused to unpickle") as e:
        Seg2DBaseline.load(tmp_path / "evil.pt")
    assert_refused(e, tmp_path / "evil.pt", marker)
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(ReadError, match="empty") as e:
        Seg2DBaseline.load(tmp_path / "empty.pt")
    assert_refused(e, tmp_path / "empty.pt")
    data = (tmp_path / "b.pt").read_bytes()
    (tmp_path / "half.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(ReadError, match="truncated") as e:
        Seg2DBaseline.load(tmp_path / "half.pt")
    assert_refused(e, tmp_path / "half.pt")
    # three part names: the head has another shape
    torch.save({"config": asdict(b.config), "part_names": ["a", "b", "c"], "state": b.net.state_dict()},
               tmp_path / "other.pt")
    with pytest.raises(ReadError, match="does not fit this 2D baseline") as e:
        Seg2DBaseline.load(tmp_path / "other.pt")
    assert_refused(e, tmp_path / "other.pt")


@pytest.mark.parametrize("name", ["neural_mesh.pt", "feature_net.pt"])
def test_detect_cli_reports_a_bad_checkpoint_in_one_line(model_dir, tmp_path, capsys, name):
    from PIL import Image

    from partlift.cli import main

    folder, _ = model_dir
    Image.fromarray(np.full((64, 64, 3), 120, np.uint8)).save(tmp_path / "img.png")
    torch.save({"state": torch.zeros(100)}, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    # 0 bytes, and a truncated file on which torch raises EOFError (click would report that as "Aborted!", 130)
    for content, problem in [(b"", "is empty (0 bytes)"), ((tmp_path / "legacy.pt").read_bytes()[:40], "truncated")]:
        (folder / name).write_bytes(content)
        with pytest.raises(SystemExit) as ex:
            main(["detect", str(folder), str(tmp_path / "img.png")])
        assert ex.value.code == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and "\n" not in err and str(folder / name) in err and problem in err, err
    assert not (tmp_path / "img_part321.json").exists()
