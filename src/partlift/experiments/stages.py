"""A resumable sequence of named stages with timings.

Each finished stage leaves ``<run_dir>/stages/<name>.json`` (written atomically, last); a
later run skips stages whose marker exists and whose config fingerprint matches, so an
interrupted job continues where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from partlift.geometry.atomic import atomic_write_json


def fingerprint(obj) -> str:
    """A short stable hash of a JSON-serialisable object."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass
class StageRunner:
    """Runs stages in order, skipping the ones already done with the same fingerprint.

    Attributes:
        run_dir: folder of the run; markers go to ``run_dir/stages``.
        log: callable receiving one-line progress messages.
    """

    run_dir: Path
    log: Callable[[str], None] = print
    timings: dict[str, float] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.run_dir = Path(self.run_dir)
        (self.run_dir / "stages").mkdir(parents=True, exist_ok=True)

    def marker(self, name: str) -> Path:
        return self.run_dir / "stages" / f"{name}.json"

    def done(self, name: str, key) -> dict | None:
        """The stored result of a finished stage with this fingerprint, else None."""
        path = self.marker(name)
        if not path.exists():
            return None
        try:
            record = json.loads(path.read_text())
        except ValueError:
            return None
        return record if record.get("fingerprint") == fingerprint(key) else None

    def run(self, name: str, fn: Callable[[], dict | None], key=None) -> dict:
        """Run ``fn`` unless stage ``name`` already finished with the same ``key``; returns its result dict."""
        record = self.done(name, key)
        if record is not None:
            self.timings[name] = record["seconds"]
            self.skipped.append(name)
            self.log(f"[{name}] already done ({record['seconds']:.1f} s in an earlier run); reusing it")
            return record.get("result") or {}
        self.log(f"[{name}] running")
        start = time.perf_counter()
        result = fn() or {}
        seconds = time.perf_counter() - start
        self.timings[name] = seconds
        record = {"stage": name, "fingerprint": fingerprint(key), "seconds": seconds, "result": result}
        atomic_write_json(self.marker(name), record, indent=2, default=str)  # after everything the stage wrote
        self.log(f"[{name}] done in {seconds:.1f} s")
        return result
