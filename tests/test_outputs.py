"""Output folders: partlift writes only into new, empty or its own folders, never over an input."""

import json

import pytest

from partlift.errors import OutputError
from partlift.outputs import MARKER, claim_output_dir, read_marker, refuse_input_overwrite


def test_new_and_empty_folders_are_claimed_and_marked(tmp_path):
    out = claim_output_dir(tmp_path / "a" / "b", "render")
    assert out.path.is_dir() and read_marker(out.path)["kind"] == "render"
    (tmp_path / "empty").mkdir()
    assert claim_output_dir(tmp_path / "empty", "render").previous_files == []


def test_a_foreign_folder_is_refused_and_left_untouched_unless_forced(tmp_path):
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "config.json").write_text("{\"mine\": 1}")
    with pytest.raises(OutputError, match="--out: .*proj is not empty and was not written by partlift"):
        claim_output_dir(tmp_path / "proj", "dataset-images")
    assert sorted(p.name for p in (tmp_path / "proj").iterdir()) == ["config.json"]
    claim_output_dir(tmp_path / "proj", "dataset-images", force=True)
    assert read_marker(tmp_path / "proj")["kind"] == "dataset-images"


def test_another_kind_is_refused_the_same_kind_resumes(tmp_path):
    claim_output_dir(tmp_path / "m", "partstad-model").record(["weights.pt"])
    with pytest.raises(OutputError, match="holds a partlift partstad-model output, not a render"):
        claim_output_dir(tmp_path / "m", "render")
    again = claim_output_dir(tmp_path / "m", "partstad-model")
    assert again.previous_files == ["weights.pt"]


def test_recognised_outputs_from_before_markers(tmp_path):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "render_config.json").write_text("{}")
    claim_output_dir(tmp_path / "r", "render", recognise=lambda p: (p / "render_config.json").is_file())
    assert (tmp_path / "r" / MARKER).is_file()


def test_a_file_or_unwritable_folder_is_one_clear_error(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError, match="is a file"):
        claim_output_dir(tmp_path / "f", "render", option="--workdir")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        import os

        if os.access(ro, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        with pytest.raises(OutputError, match="not writable|cannot write"):
            claim_output_dir(ro, "render")
    finally:
        ro.chmod(0o700)


def test_previous_files_are_removed_only_inside_the_folder(tmp_path):
    out = claim_output_dir(tmp_path / "r", "render")
    for name in ("view_000.png", "view_001.png"):
        (out.path / name).write_text("x")
    (tmp_path / "outside.txt").write_text("keep")
    out.record(["view_000.png", "view_001.png"])
    marker = json.loads((out.path / MARKER).read_text())
    marker["files"].append("../outside.txt")  # a tampered marker must not reach outside
    (out.path / MARKER).write_text(json.dumps(marker))
    again = claim_output_dir(tmp_path / "r", "render")
    assert sorted(again.remove_previous(keep=["view_001.png"])) == ["view_000.png"]
    assert (tmp_path / "outside.txt").read_text() == "keep" and (out.path / "view_001.png").exists()


def test_an_output_that_is_an_input_is_refused(tmp_path):
    img = tmp_path / "photo.png"
    img.write_bytes(b"png")
    with pytest.raises(OutputError, match="would replace the input"):
        refuse_input_overwrite([tmp_path / "." / "photo.png"], [img])
    refuse_input_overwrite([tmp_path / "photo_part321.png"], [img])  # a different file is fine
