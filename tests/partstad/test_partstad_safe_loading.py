"""PartSTAD loaders refuse malicious, damaged and foreign checkpoints with one-line ReadErrors.

Every crafted file would create a marker file when unpickled; the loaders must raise before that.
"""

from __future__ import annotations

import json

import pytest
import torch

from helpers import assert_refused, write_malicious_checkpoint
from partlift.errors import ReadError
from partlift.partstad.config import LearnedProposerConfig, PartSTADConfig, ViewConfig, config_to_dict
from partlift.partstad.model import MODEL_FORMAT, MODEL_VERSION, PartSTAD
from partlift.partstad.proposals.hf import HFProposer
from partlift.partstad.proposals.learned import LearnedProposer
from partlift.partstad.weight_net import WeightNet

PARTS = ("leg", "top")


@pytest.fixture
def model_dir(tmp_path):
    """The JSON files of a PartSTAD model folder; each test writes its own weights.pt."""
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(config_to_dict(PartSTADConfig())))
    (folder / "model.json").write_text(json.dumps({"format": MODEL_FORMAT, "version": MODEL_VERSION,
                                                   "category": "Table", "part_names": list(PARTS)}))
    return folder


def test_partstad_weights_malicious_empty_and_foreign(model_dir, tmp_path):
    f = model_dir / "weights.pt"
    marker = tmp_path / "ran"
    write_malicious_checkpoint(f, marker, keys=("null", "net", "feature_dim"))
    with pytest.raises(ReadError, match="refused to unpickle") as e:
        PartSTAD.load(model_dir)
    assert_refused(e, f, marker)
    f.write_bytes(b"")
    with pytest.raises(ReadError, match="empty") as e:
        PartSTAD.load(model_dir)
    assert_refused(e, f)
    # weights of a network for 16-dim proposal features, stored as if for 8
    cfg = PartSTADConfig()
    torch.save({"null": torch.tensor(0.0), "net": WeightNet(16, cfg.weight_net).state_dict(), "feature_dim": 8}, f)
    with pytest.raises(ReadError, match="does not fit this PartSTAD weight network") as e:
        PartSTAD.load(model_dir)
    assert_refused(e, f)
    torch.save({"null": torch.tensor(0.0), "net": None}, f)
    with pytest.raises(ReadError, match="no 'feature_dim'") as e:
        PartSTAD.load(model_dir)
    assert_refused(e, f)


def test_learned_proposer_weights(tmp_path):
    cfg, view = LearnedProposerConfig(width=4, depth=2), ViewConfig(image_size=32)
    LearnedProposer(PARTS, cfg, view).save(tmp_path / "p")
    f = tmp_path / "p" / "proposal_net.pt"
    LearnedProposer(PARTS, LearnedProposerConfig(), view).load_state(tmp_path / "p")  # round trip
    marker = tmp_path / "ran"
    write_malicious_checkpoint(f, marker)
    with pytest.raises(ReadError, match="refused to unpickle") as e:
        LearnedProposer(PARTS, cfg, view).load_state(tmp_path / "p")
    assert_refused(e, f, marker)
    wider = LearnedProposer(PARTS, LearnedProposerConfig(width=8, depth=2), view)
    torch.save(wider.net.state_dict(), f)
    with pytest.raises(ReadError, match="does not fit this proposal network") as e:
        LearnedProposer(PARTS, cfg, view).load_state(tmp_path / "p")
    assert_refused(e, f)


class _Detector:
    """Stands in for the prompt-tuned Grounding DINO: only its prompt offsets matter here."""

    def __init__(self) -> None:
        self.offsets = torch.zeros(len(PARTS), 4)

    def load_offsets(self, offsets) -> None:
        self.offsets.copy_(offsets)


def _hf_proposer() -> HFProposer:
    p = object.__new__(HFProposer)  # no transformers model needed to test the loader
    p.detector, p._key = _Detector(), None
    return p


def test_hf_prompt_offsets(tmp_path):
    f = tmp_path / "prompt_offsets.pt"
    torch.save({"offsets": torch.ones(len(PARTS), 4), "part_names": list(PARTS)}, f)
    p = _hf_proposer()
    p.load_state(tmp_path)
    assert torch.equal(p.detector.offsets, torch.ones(len(PARTS), 4))
    marker = tmp_path / "ran"
    write_malicious_checkpoint(f, marker, keys=("offsets",))
    with pytest.raises(ReadError, match="refused to unpickle") as e:
        _hf_proposer().load_state(tmp_path)
    assert_refused(e, f, marker)
    torch.save({"offsets": torch.ones(3, 4)}, f)
    with pytest.raises(ReadError, match="offsets \\(3, 4\\), this detector needs \\(2, 4\\)") as e:
        _hf_proposer().load_state(tmp_path)
    assert_refused(e, f)
