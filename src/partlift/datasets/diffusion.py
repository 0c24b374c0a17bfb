"""Optional realistic images through diffusers' ControlNet pipelines, as 3D-DST does (docs/REFERENCES.md).

Two backends, both loaded **from local folders only** (never from the hub):

- ``"sd3"``: ``StableDiffusion3ControlNetPipeline`` + ``SD3ControlNetModel`` (3D-DST / DST-Part3D:
  InstantX/SD3-Controlnet-Canny on stable-diffusion-3-medium, edge map resized to 1024 px,
  conditioning scale 1.0, diffusers' defaults of 28 steps and guidance 7.0);
- ``"sd15"``: ``StableDiffusionControlNetPipeline`` + ``ControlNetModel`` (3D-DST's ICLR-24 setting:
  control_v11p_sd15_canny, DDIM 20 steps, guidance 9.0, eta 1.0, 512 px).

The condition is the dataset's Canny edge map (``edge/<k>.png``) replicated to three channels.
Prompts come from the category name through a template (3D-DST's ``"An image of {name}, best
quality, extremely detailed"`` and its negative prompt); ``expander(prompt, context) -> str`` is a
hook for an LLM prompt expander (3D-DST's released captions came from MiniGPT-4).

Install the backend with ``pip install partlift[diffusion]``.
"""

from __future__ import annotations

import io
import json
import os
import re
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image

from partlift.errors import PartliftError
from partlift.validation import bounded, validate_config

DST_PROMPT_TEMPLATE = "An image of {name}, best quality, extremely detailed"
DST_NEGATIVE_PROMPT = (
    "longbody, lowres, bad anatomy, bad hands, missing fingers, extra digit, fewer digits, cropped, "
    "worst quality, low quality"
)
# backend -> (steps, guidance scale, image size)
_DEFAULTS = {"sd3": (28, 7.0, 1024), "sd15": (20, 9.0, 512)}

PromptExpander = Callable[[str, dict], str]


@dataclass(frozen=True)
class DiffusionConfig:
    """Settings of the ControlNet backend.

    Attributes:
        backend: "sd3" (StableDiffusion3ControlNetPipeline) or "sd15" (StableDiffusionControlNetPipeline).
        model_path: local folder of the base pipeline in diffusers format.
        controlnet_path: local folder of the Canny ControlNet in diffusers format.
        steps: denoising steps (None: 28 for sd3, 20 for sd15).
        guidance_scale: classifier-free guidance (None: 7.0 for sd3, 9.0 for sd15).
        conditioning_scale: ControlNet conditioning scale (3D-DST: 1.0).
        size: generation size in pixels (None: 1024 for sd3, 512 for sd15); the edge map is resized.
        eta: DDIM eta of the sd15 backend (3D-DST: 1.0).
        dtype: "float32" or "float16" ("float16" needs a GPU).
        device: torch device.
        prompt_template: prompt with ``{name}`` for the category name.
        negative_prompt: negative prompt (3D-DST's).
        drop_t5: sd3 only: load without the T5 text encoder (much less memory; diffusers then uses
            zero T5 embeddings). Also implied when the model folder has no T5 encoder.
    """

    backend: Literal["sd3", "sd15"] = "sd3"
    model_path: str = ""
    controlnet_path: str = ""
    steps: int | None = bounded(None, ge=1)
    guidance_scale: float | None = bounded(None, ge=0)
    conditioning_scale: float = bounded(1.0, ge=0)
    size: int | None = bounded(None, ge=16, le=4096)
    eta: float = bounded(1.0, ge=0, le=1)
    dtype: Literal["float32", "float16", "bfloat16"] = "float32"
    device: str = "cpu"
    prompt_template: str = DST_PROMPT_TEMPLATE
    negative_prompt: str = DST_NEGATIVE_PROMPT
    drop_t5: bool = False

    def __post_init__(self) -> None:
        validate_config(self)

    def resolved(self) -> tuple[int, float, int]:
        """(steps, guidance scale, size) with the backend defaults filled in."""
        steps, guidance, size = _DEFAULTS[self.backend]
        return (
            int(self.steps if self.steps is not None else steps),
            float(self.guidance_scale if self.guidance_scale is not None else guidance),
            int(self.size if self.size is not None else size),
        )


def require_diffusers():
    """Import diffusers or raise a :class:`PartliftError` saying how to install it."""
    try:
        import diffusers
    except ImportError as exc:
        raise PartliftError(
            "the diffusion backend needs the 'diffusers' package (not installed); "
            "install it with: pip install partlift[diffusion]"
        ) from exc
    return diffusers


def _local_dir(path: str, what: str) -> Path:
    if not path:
        raise PartliftError(f"no {what} given: set DiffusionConfig.{what} to a local folder (hub ids are not used)")
    p = Path(path).expanduser()
    if not p.is_dir():
        raise PartliftError(
            f"{what} {str(p)!r} is not a local folder; partlift loads diffusion models from disk only "
            f"(download them yourself, e.g. with huggingface-cli, and pass the folder)"
        )
    return p


def load_controlnet_pipeline(config: DiffusionConfig):
    """Load the ControlNet pipeline of ``config`` from local folders (``local_files_only=True``).

    Raises:
        PartliftError: diffusers missing (with the pip command), a path that is not a local folder,
        or a folder diffusers cannot load (naming the path).
    """
    diffusers = require_diffusers()
    import torch

    config.resolved()
    base = _local_dir(config.model_path, "model_path")
    cn_path = _local_dir(config.controlnet_path, "controlnet_path")
    dtype = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}.get(config.dtype)
    if dtype is None:
        raise PartliftError(f"unknown dtype {config.dtype!r}; use float32, float16 or bfloat16")
    kw = {"local_files_only": True, "torch_dtype": dtype}
    try:
        with warnings.catch_warnings():
            # newer diffusers renamed torch_dtype to dtype; the old name works in every version
            warnings.filterwarnings("ignore", message=".*torch_dtype.*", category=FutureWarning)
            pipe = _from_pretrained(diffusers, config, base, cn_path, kw)
    except (OSError, ValueError) as exc:
        raise PartliftError(
            f"cannot load the {config.backend} ControlNet pipeline from {base} + {cn_path}: {exc}"
        ) from exc
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(config.device)


def _absent_components(base: Path, names: tuple[str, ...]) -> dict:
    """Components of ``names`` that the folder's model_index.json lacks or stores as null -> None."""
    try:
        index = json.loads((base / "model_index.json").read_text())
    except (OSError, ValueError):
        return {}
    return {n: None for n in names if n not in index or not isinstance(index[n], list) or index[n][0] is None}


def _from_pretrained(diffusers, config: DiffusionConfig, base: Path, cn_path: Path, kw: dict):
    if config.backend == "sd3":
        cn = diffusers.SD3ControlNetModel.from_pretrained(cn_path, **kw)
        extra = _absent_components(base, ("text_encoder_3", "tokenizer_3", "image_encoder", "feature_extractor"))
        if config.drop_t5:
            extra.update(text_encoder_3=None, tokenizer_3=None)
        return diffusers.StableDiffusion3ControlNetPipeline.from_pretrained(base, controlnet=cn, **extra, **kw)
    cn = diffusers.ControlNetModel.from_pretrained(cn_path, **kw)
    pipe = diffusers.StableDiffusionControlNetPipeline.from_pretrained(
        base, controlnet=cn, safety_checker=None, requires_safety_checker=False, **kw
    )
    pipe.scheduler = diffusers.DDIMScheduler.from_config(pipe.scheduler.config)  # 3D-DST samples with DDIM
    return pipe


def category_name(category: str) -> str:
    """Readable name of a category: "park_bench" -> "park bench", "StorageFurniture" -> "storage furniture"."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", category.replace("_", " "))
    return " ".join(words.split()).lower()


def make_prompt(
    category: str,
    template: str = DST_PROMPT_TEMPLATE,
    expander: PromptExpander | None = None,
    context: dict | None = None,
) -> str:
    """Prompt for one image: ``template`` filled with the category name, then ``expander`` if given.

    Args:
        category: category name.
        template: text with ``{name}``.
        expander: ``fn(prompt, context) -> prompt`` (for example an LLM adding details).
        context: passed to the expander (category, shape id, view, pose, ...).
    """
    prompt = template.format(name=category_name(category))
    if expander is not None:
        ctx = {"category": category, **(context or {})}
        prompt = str(expander(prompt, ctx))
    return prompt


def edge_condition(edges: np.ndarray, size: int) -> Image.Image:
    """A (H, W) bool / uint8 edge map as the RGB control image of ``size`` x ``size`` (nearest resize)."""
    e = np.asarray(edges)
    e8 = (e > 0).astype(np.uint8) * 255 if e.dtype == bool or e.max(initial=0) <= 1 else e.astype(np.uint8)
    img = Image.fromarray(np.repeat(e8[:, :, None], 3, axis=2))
    return img.resize((size, size), Image.Resampling.NEAREST) if img.size != (size, size) else img


def generate_image(
    pipe,
    edges: np.ndarray,
    prompt: str,
    config: DiffusionConfig,
    seed: int = 0,
    output_size: int | None = None,
) -> np.ndarray:
    """One ControlNet image from an edge map.

    Args:
        pipe: a pipeline from :func:`load_controlnet_pipeline`.
        edges: (H, W) edge map.
        prompt: the text prompt.
        config: the settings used to build ``pipe``.
        seed: torch generator seed.
        output_size: resize the result to this size (default: the edge map's width, so the image
            stays aligned with the dataset's masks and cameras).

    Returns:
        (S, S, 3) uint8 RGB.
    """
    import torch

    steps, guidance, size = config.resolved()
    control = edge_condition(edges, size)
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    common = {
        "prompt": prompt,
        "negative_prompt": config.negative_prompt,
        "num_inference_steps": steps,
        "guidance_scale": guidance,
        "controlnet_conditioning_scale": config.conditioning_scale,
        "generator": gen,
        "height": size,
        "width": size,
        "output_type": "pil",
    }
    if config.backend == "sd3":
        out = pipe(control_image=control, **common)
    else:
        out = pipe(image=control, eta=config.eta, **common)
    img = out.images[0].convert("RGB")
    target = int(output_size or np.asarray(edges).shape[1])
    if img.size != (target, target):
        img = img.resize((target, target), Image.Resampling.BICUBIC)
    return np.asarray(img)


def diffuse_image_dataset(
    root: str | os.PathLike,
    config: DiffusionConfig,
    splits: tuple[str, ...] = ("train",),
    images_per_view: int = 1,
    expander: PromptExpander | None = None,
    pipe=None,
    seed: int = 0,
) -> int:
    """Add diffusion images to a partlift image dataset (resumable: existing files are kept).

    Writes ``<split>/<shape_id>/diffused/<view>_<k>.png`` for every view and ``k <
    images_per_view``, and ``prompts.json`` = {shape_id: {"<view>_<k>": prompt}} (3D-DST's layout).
    Returns the number of images generated.
    """
    from partlift.geometry.atomic import atomic_write_bytes

    root = Path(root)
    splits_file = root / "splits.json"
    if not splits_file.is_file():
        raise PartliftError(f"not a partlift image dataset (no splits.json): {root}")
    ds_config = json.loads((root / "config.json").read_text())
    category = ds_config.get("category", "object")
    shape_lists = json.loads(splits_file.read_text())
    prompts_path = root / "prompts.json"
    prompts = json.loads(prompts_path.read_text()) if prompts_path.is_file() else {}
    made = 0
    for split in splits:
        for sid in shape_lists.get(split, []):
            for ann_path in sorted((root / split / sid / "annotation").glob("*.json")):
                ann = json.loads(ann_path.read_text())
                view = int(ann["view"])
                edges = np.asarray(Image.open(root / ann["files"]["edge"])) > 0
                for k in range(images_per_view):
                    stem = f"{view:03d}_{k:02d}"
                    out = root / split / sid / "diffused" / f"{stem}.png"
                    if out.is_file():
                        continue
                    if pipe is None:
                        pipe = load_controlnet_pipeline(config)
                    ctx = {"shape_id": sid, "view": view, "azimuth": ann["azimuth"], "elevation": ann["elevation"]}
                    prompt = make_prompt(category, config.prompt_template, expander, ctx)
                    img = generate_image(pipe, edges, prompt, config, seed=zlib.crc32(f"{seed}/{sid}/{stem}".encode()))
                    out.parent.mkdir(parents=True, exist_ok=True)
                    buf = io.BytesIO()
                    Image.fromarray(img).save(buf, format="PNG")
                    atomic_write_bytes(out, buf.getvalue())
                    prompts.setdefault(sid, {})[stem] = prompt
                    made += 1
                    atomic_write_bytes(prompts_path, json.dumps(prompts, indent=1).encode())
    return made
