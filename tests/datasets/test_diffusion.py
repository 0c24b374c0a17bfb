"""Diffusion backend: a tiny randomly initialised SD1.5 ControlNet pipeline built offline, one step."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from partlift.datasets.diffusion import (
    DiffusionConfig,
    category_name,
    diffuse_image_dataset,
    edge_condition,
    generate_image,
    load_controlnet_pipeline,
    make_prompt,
    require_diffusers,
)
from partlift.errors import PartliftError


def test_prompts_and_condition():
    assert category_name("park_bench") == "park bench"
    assert category_name("StorageFurniture") == "storage furniture"
    assert make_prompt("car") == "An image of car, best quality, extremely detailed"
    seen = {}

    def expander(prompt, ctx):
        seen.update(ctx)
        return prompt + ", red, on a street"

    assert make_prompt("car", expander=expander, context={"view": 3}).endswith("on a street")
    assert seen == {"category": "car", "view": 3}
    e = np.zeros((8, 8), bool)
    e[2, :] = True
    img = np.asarray(edge_condition(e, 16))
    assert img.shape == (16, 16, 3) and set(np.unique(img)) == {0, 255} and (img[4:6, :, 0] == 255).all()


def test_missing_diffusers_and_bad_paths(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "diffusers", None)
    with pytest.raises(PartliftError, match=r"pip install partlift\[diffusion\]"):
        require_diffusers()
    monkeypatch.undo()
    pytest.importorskip("diffusers")
    with pytest.raises(PartliftError, match="not a local folder"):
        load_controlnet_pipeline(DiffusionConfig(model_path="stabilityai/sd3", controlnet_path=str(tmp_path)))
    with pytest.raises(PartliftError, match="no model_path"):
        load_controlnet_pipeline(DiffusionConfig())
    with pytest.raises(PartliftError, match="cannot load"):
        load_controlnet_pipeline(
            DiffusionConfig(backend="sd15", model_path=str(tmp_path), controlnet_path=str(tmp_path))
        )
    with pytest.raises(PartliftError, match="DiffusionConfig.backend: 'dalle' is not one of 'sd3', 'sd15'"):
        DiffusionConfig(backend="dalle")


def _tiny_clip_tokenizer(folder: Path):
    """A CLIP BPE tokenizer over single byte-characters (no merges), written to disk."""
    from transformers import CLIPTokenizer

    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    chars = [chr(b) for b in keep] + [chr(256 + i) for i in range(256 - len(keep))]
    vocab = {"<|startoftext|>": 0, "!": 1, "<|endoftext|>": 2}
    for c in chars:
        for tok in (c, c + "</w>"):
            vocab.setdefault(tok, len(vocab))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=77), len(vocab)


@pytest.fixture(scope="module")
def tiny_sd15(tmp_path_factory) -> DiffusionConfig:
    pytest.importorskip("diffusers")
    import torch
    from diffusers import AutoencoderKL, ControlNetModel, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    out = tmp_path_factory.mktemp("tiny_sd15")
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(8, 16), layers_per_block=1, sample_size=32, in_channels=4, out_channels=4,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=16, norm_num_groups=4, attention_head_dim=2,
    )
    controlnet = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(4, 8))
    vae = AutoencoderKL(
        block_out_channels=(8, 16), in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2, latent_channels=4, norm_num_groups=4, sample_size=64,
    )
    tokenizer, vocab_size = _tiny_clip_tokenizer(out / "tok")
    text_encoder = CLIPTextModel(CLIPTextConfig(
        bos_token_id=0, eos_token_id=2, pad_token_id=1, hidden_size=16, intermediate_size=32, num_attention_heads=2,
        num_hidden_layers=2, vocab_size=vocab_size, projection_dim=16, max_position_embeddings=77,
    ))
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                              steps_offset=1)
    base = StableDiffusionPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, scheduler=scheduler,
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    )
    base.save_pretrained(out / "base")
    controlnet.save_pretrained(out / "controlnet")
    return DiffusionConfig(backend="sd15", model_path=str(out / "base"), controlnet_path=str(out / "controlnet"),
                           steps=1, size=64)


def test_tiny_sd15_pipeline_runs_one_step(tiny_sd15, tmp_path):
    pipe = load_controlnet_pipeline(tiny_sd15)
    assert type(pipe).__name__ == "StableDiffusionControlNetPipeline"
    assert type(pipe.scheduler).__name__ == "DDIMScheduler"
    edges = np.zeros((32, 32), bool)
    edges[8:24, 12] = True
    a = generate_image(pipe, edges, make_prompt("park_bench"), tiny_sd15, seed=3)
    b = generate_image(pipe, edges, make_prompt("park_bench"), tiny_sd15, seed=3)
    assert a.shape == (32, 32, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b), "the same seed must give the same image"

    # on a (tiny) partlift image dataset: one image per training view, resumable
    from partlift.datasets.images import generate_image_dataset, quick_image_config

    cfg = replace(quick_image_config("hammer"), n_train_meshes=1, n_test_meshes=0, views_per_mesh=2,
                  template_views=0, size=32)
    root = generate_image_dataset(cfg, tmp_path / "ds", progress=False)
    assert diffuse_image_dataset(root, tiny_sd15, pipe=pipe) == 2
    prompts = json.loads((root / "prompts.json").read_text())
    sid = next(iter(prompts))
    assert set(prompts[sid]) == {"000_00", "001_00"}
    assert (root / "train" / sid / "diffused" / "000_00.png").is_file()
    assert diffuse_image_dataset(root, tiny_sd15, pipe=pipe) == 0


@pytest.fixture(scope="module")
def tiny_sd3(tmp_path_factory) -> DiffusionConfig:
    """A tiny SD3 pipeline without T5 (its text_encoder_3 / tokenizer_3 are saved as null)."""
    pytest.importorskip("diffusers")
    import torch
    from diffusers import (
        AutoencoderKL,
        FlowMatchEulerDiscreteScheduler,
        SD3ControlNetModel,
        SD3Transformer2DModel,
        StableDiffusion3Pipeline,
    )
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection

    out = tmp_path_factory.mktemp("tiny_sd3")
    torch.manual_seed(0)
    transformer = SD3Transformer2DModel(
        sample_size=32, patch_size=1, in_channels=4, out_channels=4, num_layers=2, attention_head_dim=8,
        num_attention_heads=4, caption_projection_dim=32, joint_attention_dim=32, pooled_projection_dim=64,
    )
    vae = AutoencoderKL(
        block_out_channels=(8, 16), in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2, latent_channels=4, norm_num_groups=4, sample_size=64,
        use_quant_conv=False, use_post_quant_conv=False, shift_factor=0.0609, scaling_factor=1.5035,
    )
    tokenizer, vocab_size = _tiny_clip_tokenizer(out / "tok")

    def clip():
        return CLIPTextModelWithProjection(CLIPTextConfig(
            bos_token_id=0, eos_token_id=2, pad_token_id=1, hidden_size=32, intermediate_size=37,
            num_attention_heads=4, num_hidden_layers=2, vocab_size=vocab_size, projection_dim=32,
            max_position_embeddings=77,
        ))

    StableDiffusion3Pipeline(
        transformer=transformer, scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae, text_encoder=clip(),
        tokenizer=tokenizer, text_encoder_2=clip(), tokenizer_2=tokenizer, text_encoder_3=None, tokenizer_3=None,
    ).save_pretrained(out / "base")
    # from_transformer rewrites the transformer's config, so it comes after saving the base pipeline
    SD3ControlNetModel.from_transformer(transformer, num_layers=1, num_extra_conditioning_channels=0).save_pretrained(
        out / "controlnet"
    )
    return DiffusionConfig(backend="sd3", model_path=str(out / "base"), controlnet_path=str(out / "controlnet"),
                           steps=1, size=64)


def test_tiny_sd3_pipeline_runs_one_step(tiny_sd3):
    pipe = load_controlnet_pipeline(tiny_sd3)
    assert type(pipe).__name__ == "StableDiffusion3ControlNetPipeline"
    edges = np.zeros((32, 32), bool)
    edges[4:28, 16] = True
    img = generate_image(pipe, edges, make_prompt("airliner"), tiny_sd3, seed=1)
    assert img.shape == (32, 32, 3) and img.dtype == np.uint8
    assert np.array_equal(img, generate_image(pipe, edges, make_prompt("airliner"), tiny_sd3, seed=1))
