import pytest

from partlift.experiments.provenance import package_versions, provenance
from partlift.experiments.stages import StageRunner


def test_stage_runs_once_and_resumes(tmp_path):
    calls = []
    r1 = StageRunner(tmp_path, log=lambda m: None)
    assert r1.run("a", lambda: calls.append("a") or {"x": 1}, key={"n": 1}) == {"x": 1}
    with pytest.raises(KeyboardInterrupt):  # an interruption leaves no marker for stage b
        r1.run("b", lambda: (_ for _ in ()).throw(KeyboardInterrupt()), key=None)
    r2 = StageRunner(tmp_path, log=lambda m: None)
    assert r2.run("a", lambda: calls.append("a2") or {"x": 2}, key={"n": 1}) == {"x": 1}
    r2.run("b", lambda: calls.append("b") or {}, key=None)
    assert calls == ["a", "b"] and r2.skipped == ["a"]
    # a changed config reruns the stage
    r3 = StageRunner(tmp_path, log=lambda m: None)
    assert r3.run("a", lambda: {"x": 3}, key={"n": 2}) == {"x": 3}


def test_provenance_fields():
    p = provenance(seed=3, config={"a": 1})
    assert p["seed"] == 3 and p["config"] == {"a": 1}
    assert p["packages"]["numpy"] and package_versions(("no-such-package-xyz",)) == {"no-such-package-xyz": None}
