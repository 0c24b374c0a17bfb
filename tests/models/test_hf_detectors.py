"""Grounding DINO prompt tuning and SAM box masks with tiny random models built offline."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers import assert_close

transformers = pytest.importorskip("transformers")

WORDS = ["leg", "tabletop", "arm", "back", "seat"]


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models run much faster single-threaded on a shared machine."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _vocab(path):
    vocab = [f"[unused{i}]" for i in range(1100)]
    vocab[0], vocab[100], vocab[101], vocab[102], vocab[103] = "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"
    vocab[1012] = "."  # Grounding DINO hard-codes BERT's ids of [CLS], [SEP] and "."
    for i, w in enumerate(WORDS):
        vocab[1020 + i] = w
    return {tok: i for i, tok in enumerate(vocab)}


def build_tiny_grounding_dino(path):
    torch.manual_seed(0)
    sw = transformers.SwinConfig(embed_dim=24, depths=[1, 1, 1, 1], num_heads=[1, 1, 1, 1],
                                 out_features=["stage2", "stage3", "stage4"], image_size=128, window_size=4)
    bert = transformers.BertConfig(vocab_size=1100, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                   intermediate_size=64)
    cfg = transformers.GroundingDinoConfig(
        backbone_config=sw, text_config=bert, num_feature_levels=4, d_model=32, max_text_len=32,
        use_timm_backbone=False, use_pretrained_backbone=False, encoder_layers=1, decoder_layers=2,
        encoder_ffn_dim=64, decoder_ffn_dim=64, encoder_attention_heads=2, decoder_attention_heads=2, num_queries=12,
    )
    transformers.GroundingDinoForObjectDetection(cfg).save_pretrained(path)
    transformers.BertTokenizer(vocab=_vocab(path), do_lower_case=True).save_pretrained(path)
    (path / "README.md").write_text("---\nlicense: apache-2.0\ntags: [test]\n---\n# tiny\n")
    return path


def build_tiny_sam(path):
    torch.manual_seed(0)
    vc = transformers.SamVisionConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=2, output_channels=32,
                                      num_pos_feats=16, window_size=4, global_attn_indexes=[1], image_size=256,
                                      patch_size=16, mlp_dim=128)
    pc = transformers.SamPromptEncoderConfig(hidden_size=32, image_size=256, patch_size=16, mask_input_channels=8)
    mc = transformers.SamMaskDecoderConfig(hidden_size=32, num_attention_heads=2, mlp_dim=64, iou_head_hidden_dim=32)
    transformers.SamModel(transformers.SamConfig(vision_config=vc, prompt_encoder_config=pc,
                                                 mask_decoder_config=mc)).save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def gdino_path(tmp_path_factory):
    return build_tiny_grounding_dino(tmp_path_factory.mktemp("gdino"))


@pytest.fixture(scope="module")
def sam_path(tmp_path_factory):
    return build_tiny_sam(tmp_path_factory.mktemp("sam"))


def test_prompt_tokens_and_zero_offsets(gdino_path):
    from partlift.models.hf.grounding_dino import PromptTunedGroundingDino

    det = PromptTunedGroundingDino(gdino_path, ("leg", "tabletop"), input_size=128)
    assert det.input_ids.tolist() == [[101, 1020, 1012, 1021, 1012, 102]]
    assert det.token_part.tolist() == [-1, 0, -1, 1, -1, -1]
    assert det.licence == "apache-2.0" and det.feature_dim == 32
    imgs = np.random.default_rng(0).integers(0, 256, (2, 40, 40, 3)).astype(np.uint8)
    with torch.no_grad():
        p0, b0, f0 = det.forward(imgs)
        raw = det.model(pixel_values=det._pixels(imgs), input_ids=det.input_ids.expand(2, -1),
                        attention_mask=torch.ones(2, 6, dtype=torch.long))
    # zero offsets = the plain model; part probability = max over the part's tokens
    assert_close(p0[..., 1], torch.sigmoid(raw.logits[:, :, 3]), atol=1e-6)
    assert_close(b0, raw.pred_boxes, atol=1e-6)
    det.load_offsets(torch.randn(2, 32))
    with torch.no_grad():
        p1, _, _ = det.forward(imgs)
    assert not torch.allclose(p0, p1), "the offsets change the text embeddings"
    probs, boxes, feats = det.detect(imgs)
    assert probs.shape == (2, 12, 2) and feats.shape == (2, 12, 32)
    assert (boxes[..., 0] <= boxes[..., 2]).all() and boxes.min() >= 0 and boxes.max() <= 40


def test_prompt_tuning_trains_only_the_offsets(gdino_path):
    from partlift.models.hf.grounding_dino import PromptTunedGroundingDino

    det = PromptTunedGroundingDino(gdino_path, ("leg", "tabletop"), input_size=128)
    before = {k: v.clone() for k, v in det.model.state_dict().items()}
    rng = np.random.default_rng(1)
    imgs = rng.integers(0, 256, (3, 40, 40, 3)).astype(np.uint8)
    boxes = [np.array([[2, 2, 20, 30]]), np.array([[5, 5, 35, 15], [1, 20, 10, 39]]), np.zeros((0, 4))]
    labels = [np.array([0]), np.array([1, 0]), np.zeros(0, int)]
    hist = det.tune_prompts(imgs, boxes, labels, steps=4, lr=0.05, batch_size=3)  # full batch: deterministic
    assert hist[-1] < hist[0]
    assert det.offsets.abs().sum() > 0
    for k, v in det.model.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_sam_box_masks(sam_path):
    from partlift.models.hf.sam import SamBoxMasker

    sam = SamBoxMasker(sam_path)
    img = np.random.default_rng(2).integers(0, 256, (48, 64, 3)).astype(np.uint8)
    m = sam.masks(img, np.array([[4, 4, 30, 40], [10, 0, 60, 20]], np.float32))
    assert m.shape == (2, 48, 64) and m.dtype == bool
    assert (sam.masks(img, np.array([[4, 4, 30, 40], [10, 0, 60, 20]])) == m).all()
    assert sam.masks(img, np.zeros((0, 4))).shape == (0, 48, 64)
    assert "not stated" in sam.licence


def test_missing_folder_is_a_read_error(tmp_path):
    from partlift.errors import ReadError
    from partlift.models.hf.sam import SamBoxMasker

    with pytest.raises(ReadError, match="not a local transformers model folder"):
        SamBoxMasker(tmp_path)


def test_grounding_dino_proposer_end_to_end(gdino_path, sam_path, tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1] / "partstad"))
    from fixtures import toy_table

    from partlift.partstad.config import PartSTADConfig, ProposerConfig, ViewConfig
    from partlift.partstad.proposals import build_proposer, proposer_from_state
    from partlift.partstad.views import render_views

    cfg = PartSTADConfig(views=ViewConfig(image_size=40, views=((10, 0), (40, 120))), proposer=ProposerConfig(
        kind="grounding-dino", model_path=str(gdino_path), sam_path=str(sam_path), prompt_steps=2, box_threshold=0.0,
        hf_input_size=128))
    cloud = toy_table(300)
    prop = build_proposer(cfg, cloud.part_names).fit([cloud])
    assert "apache-2.0" in prop.licences["grounding-dino"] and "sam" in prop.licences
    views = render_views(cloud.points, cloud.colors, cfg.views)
    p = prop.propose(views, cloud)
    assert len(p) == 2 * 12, "threshold 0: every query of every view"
    assert p.features.shape == (len(p), 32) and p.masks.shape == (len(p), 40, 40)
    assert set(np.unique(p.label)) <= {0, 1}
    prop.save(tmp_path / "p")
    again = proposer_from_state(cfg, cloud.part_names, tmp_path / "p")
    assert again.cache_key() == prop.cache_key()
    assert np.array_equal(again.propose(views, cloud).box, p.box)
