"""transformers adapters for PartSTAD's optional proposers (need the ``hf`` extra).

- :mod:`~partlift.models.hf.grounding_dino`: Grounding DINO with PartSLIP-style prompt tuning (a
  learnable offset per part-name text embedding; the model stays frozen).
- :mod:`~partlift.models.hf.sam`: SAM turning boxes into masks.

Weights are always read from a local folder (``save_pretrained`` layout); nothing is downloaded.
:func:`model_licence` reports the licence stated in the folder's model card.
"""

from __future__ import annotations

import re
from pathlib import Path

from partlift.errors import ReadError


def require_transformers():
    """Import transformers or explain how to get it."""
    try:
        import transformers
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ReadError("this proposer needs the 'transformers' package: pip install 'partlift[hf]'") from exc
    return transformers


def check_model_dir(path: str | Path, what: str) -> Path:
    p = Path(path)
    if not str(path) or not p.is_dir() or not (p / "config.json").is_file():
        raise ReadError(f"{what}: {p} is not a local transformers model folder (no config.json); pass the folder "
                        "written by save_pretrained (weights are never downloaded)")
    return p


def model_licence(path: str | Path) -> str:
    """The ``license:`` of the model card (README.md front matter) in ``path``, or a note that it is
    not stated there."""
    readme = Path(path) / "README.md"
    if readme.is_file():
        text = readme.read_text(errors="replace")
        m = re.search(r"^---\s*\n(.*?)\n---", text, flags=re.S | re.M)
        block = m.group(1) if m else text[:2000]
        lm = re.search(r"^\s*licen[sc]e\s*:\s*(.+)$", block, flags=re.M | re.I)
        if lm:
            return lm.group(1).strip().strip("'\"")
    return f"not stated in {readme} (check the model card before use)"
