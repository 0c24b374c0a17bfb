"""Part321 commands: ``partlift train part321``, ``partlift detect``, ``partlift bench part321``,
``partlift bench transfer``."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click
import numpy as np

from partlift.commands.options import config_type, device_option, executor_config, executor_options
from partlift.errors import PartliftError
from partlift.experiments.part321_benchmark import BenchSettings, TransferSettings
from partlift.outputs import claim_output_dir
from partlift.part321.correspondence import CorrespondenceConfig
from partlift.part321.feature_training import FeatureTrainingConfig
from partlift.part321.inference import InferenceConfig
from partlift.part321.model import Part321Config

if TYPE_CHECKING:
    from partlift.part321.model import Part321Prediction


def _echo_json(result: dict, path: str | None) -> None:
    if path:
        from partlift.datasets.generation import write_json_atomic

        write_json_atomic(path, result)
        click.echo(f"wrote {path}")


@click.command("part321")
@click.option("--category", "-c", help="Embedded procedural category (see `partlift shapes list`).")
@click.option("--template", "template_path", type=click.Path(exists=True, dir_okay=False),
              help="Your own category: the one annotated mesh (with its .labels.json sidecar).")
@click.option("--meshes", "meshes_dir", type=click.Path(exists=True, file_okay=False),
              help="Your own category: a folder of unannotated meshes of the category.")
@click.option("--dataset", "dataset_dir", type=click.Path(exists=True, file_okay=False),
              help="An existing `partlift make-dataset images` folder instead of the embedded one.")
@click.option("--out", "-o", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Model folder to write (default: part321-<category>).")
@click.option("--quick", is_flag=True, help="Tiny embedded dataset and short training (a smoke run).")
@click.option("--epochs", type=config_type(FeatureTrainingConfig, "epochs"), default=None,
              help="Feature-training epochs (default 40, quick 10).")
@click.option("--correspondence", type=config_type(CorrespondenceConfig, "method"),
              default=CorrespondenceConfig.method, show_default=True, help="Mesh-to-mesh correspondence.")
@click.option("--backbone", type=config_type(Part321Config, "backbone"), default=Part321Config.backbone,
              show_default=True,
              help="Feature extractor: a CNN trained from scratch or a local transformers model (--hf-path).")
@click.option("--hf-path", type=click.Path(exists=True, file_okay=False), default=None,
              help="Local folder of a transformers vision model (with --backbone hf; needs the 'hf' extra).")
@click.option("--views", type=click.IntRange(min=1), default=20, show_default=True,
              help="Your own category: synthesised training views per mesh.")
@click.option("--size", type=click.IntRange(32, 4096), default=128, show_default=True,
              help="Your own category: image size of the synthesised views (multiple of 32).")
@click.option("--seed", type=config_type(Part321Config, "seed"), default=0, show_default=True)
@click.option("--force", is_flag=True, help="Write into a non-empty --out folder that is not a Part321 model.")
@device_option
@click.option("--progress/--no-progress", default=True, show_default=True)
def train_part321(category, template_path, meshes_dir, dataset_dir, out_dir, quick, epochs, correspondence, backbone,
                  hf_path, views, size, seed, force, device, progress) -> None:
    """Train Part321 for one category.

    Either an embedded category (--category C, or --dataset DIR), or your own category given one
    annotated mesh (--template MESH) and a folder of unannotated meshes (--meshes DIR); training
    images of your meshes are synthesised. Writes a model folder with config.json.
    """
    from partlift.datasets.cache import ensure_embedded_dataset
    from partlift.datasets.loaders import load_mesh_folder
    from partlift.geometry.io import load_part_mesh
    from partlift.part321.data import load_training_data, normalise_mesh, synthesize_training_images
    from partlift.part321.model import Part321

    own = template_path is not None or meshes_dir is not None
    if own and (template_path is None or meshes_dir is None):
        raise PartliftError("your own category needs both --template MESH and --meshes DIR")
    if own and (category or dataset_dir):
        raise PartliftError("use either --template/--meshes or --category/--dataset, not both")
    if not own and not category and not dataset_dir:
        raise PartliftError("give --category C (embedded data), --dataset DIR, or --template MESH --meshes DIR")
    cfg = Part321Config(correspondence=CorrespondenceConfig(method=correspondence), backbone=backbone,
                        hf_path=hf_path, seed=seed)
    n_epochs = epochs if epochs is not None else (10 if quick else None)
    if n_epochs is not None:
        cfg = replace(cfg, training=replace(cfg.training, epochs=int(n_epochs)))
    if quick:
        cfg = replace(cfg, deformation=replace(cfg.deformation, steps=300))
    if own:
        template = normalise_mesh(load_part_mesh(template_path))
        assert template.labels is not None  # set by PartMesh.__post_init__
        if (template.labels < 0).all():
            raise PartliftError(f"{template_path} has no part labels (expected a .labels.json sidecar beside it)")
        meshes = [normalise_mesh(m).copy(labels=np.full(len(m.vertices), -1), part_names=(), instances=None)
                  for m in load_mesh_folder(meshes_dir)]
        click.echo(f"synthesising {views} views of the template and of each of {len(meshes)} meshes ...")
        images = synthesize_training_images(template, meshes, views, views, size, seed)
        name = template.category or Path(template_path).stem
    else:
        root = Path(dataset_dir) if dataset_dir else ensure_embedded_dataset("images", category, quick=quick,
                                                                             progress=progress)
        data = load_training_data(root)
        template, meshes, images, name = data.template, data.meshes, data.images, data.category or category
    out = claim_output_dir(out_dir or f"part321-{name}", "part321-model", force=force,
                           recognise=lambda p: (p / "feature_net.pt").is_file()).path
    click.echo(f"training Part321 on {len(images)} images of {len(meshes)} meshes + the template -> {out}")
    model = Part321(cfg, device=device).fit(template, meshes, images, workdir=out / "checkpoints", progress=progress)
    model.meta["category"] = name  # the dataset's (or the user's) name, which detect matches inputs against
    model.save(out)
    secs = model.meta["train_seconds"]
    click.echo("trained in " + ", ".join(f"{k} {v:.0f} s" for k, v in secs.items()) + f"; model in {out}")


def save_detection_png(path: Path, image: np.ndarray, pred: Part321Prediction) -> None:
    """The overlay of ``partlift detect`` (module-level: batch workers receive it by name)."""
    from partlift.report.figures import detection_figure, save_png

    figure = detection_figure(image, pred.mask, pred.boxes, pred.camera.K, (pred.camera.height, pred.camera.width),
                              len(pred.part_names))
    save_png(path, figure)


@click.command("detect")
@click.argument("model_dir", type=click.Path(exists=True, file_okay=False))
@click.argument("inputs", nargs=-1, required=True, metavar="IMAGE...")
@click.option("--camera", "camera_json", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Camera JSON (partlift Camera.to_dict, e.g. an annotation's 'camera') for the intrinsics of "
                   "images without a dataset annotation.")
@click.option("--out", "-o", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Output folder (default for one image: <image stem>-part321 beside the image; required "
                   "otherwise).")
@click.option("--steps", type=config_type(InferenceConfig, "part_steps"), default=None,
              help="Part-stage steps (default: the model's, 300).")
@click.option("--use-camera-distance", is_flag=True,
              help="The object's distance is known: use and keep the distance of --camera (or of a dataset "
                   "image's annotation) instead of estimating it from the object's extent.")
@executor_options
@click.option("--redo", is_flag=True,
              help="--out holds a batch made with another model or other settings: delete its results and redo "
                   "every image (without it, such a folder is refused).")
@click.option("--force", is_flag=True, help="Write into a non-empty --out folder that partlift did not write.")
@device_option
@click.option("--progress/--no-progress", default=True, show_default=True)
def detect(model_dir: str, inputs: tuple[str, ...], camera_json: str | None, out_dir: str | None,
           steps: int | None, use_camera_distance: bool, backend: str, workers: int | None, address: str | None,
           redo: bool, force: bool, device: str, progress: bool) -> None:
    """Recognise the 3D parts of the object in each IMAGE with a trained Part321 MODEL.

    IMAGE is one or more image files, folders (searched recursively) or glob patterns; a
    `partlift make-dataset images` folder stands for its test images. For each image:
    <stem>_part321.json (pose, camera, per-part oriented 3D boxes in the camera frame, the distance
    it started from and a confidence), <stem>_part321.png (projected 2D parts and 3D boxes over
    the image), <stem>_parts.png (2D part mask: 0 background, part k -> k + 1), <stem>_parts.ply
    with <stem>_parts.labels.json (the posed mesh in the camera frame with its part labels) and a
    `partlift eval part321` prediction record in <out>/eval/part321. Images of a dataset use their
    annotated camera and also get ground-truth records in <out>/eval/gt. Without --camera the
    camera of docs/PART321.md ("Images without a camera") is assumed and the distance estimated.
    A batch keeps manifest.json (finished images are skipped by a rerun), failures.json and
    summary.json in --out. Exit status 3 when some images failed.
    """
    from partlift.commands.partstad import echo_batch_report, one_input_file
    from partlift.experiments.batch import BatchItem
    from partlift.experiments.batch_jobs import DetectJob, detect_item, run_model_batch
    from partlift.part321.model import Part321
    from partlift.render.camera import Camera

    single = one_input_file(inputs)
    from partlift.models.device import resolve_device

    dev = str(resolve_device(device))
    exec_cfg = executor_config(backend, workers, address, dev)
    model = Part321.load(model_dir, device=dev)
    camera = Camera.load_json(camera_json) if camera_json else None
    if single is None and not out_dir:
        raise PartliftError("--out: several images, a folder or a pattern need an output folder (--out DIR)")
    target = out_dir if out_dir else single.with_name(f"{single.stem}-part321") if single is not None else ""
    out = claim_output_dir(target, "part321-detection", force=force, recognise=_detection_output).path
    job = DetectJob(str(out), str(model_dir), None if steps is None else int(steps), camera, camera_json,
                    save_figure=save_detection_png, device=dev, use_camera_distance=use_camera_distance)
    if single is None:
        settings = {"steps": job.steps, "camera": camera.to_dict() if camera else None, "n_points": job.n_points,
                    "use_camera_distance": use_camera_distance}
        report, notes = run_model_batch(job, inputs, model.meta.get("category"), settings, exec_cfg, redo=redo,
                                        progress=progress)
        echo_batch_report(report, notes)
        return
    res = detect_item((model, job), BatchItem(single.stem, str(single), "", single.stem))["summary"]
    prefix = out / f"{single.stem}_part321"
    init = res["distance_init"]
    how = "the camera's" if init["source"] == "camera" else "estimated from the object's extent"
    margin = "" if res["flip_margin"] is None else f"; flip margin {res['flip_margin']:.3f}"
    click.echo(f"pose: azimuth {np.degrees(res['azimuth']):.1f}, elevation {np.degrees(res['elevation']):.1f}, "
               f"theta {np.degrees(res['theta']):.1f} deg, distance {res['distance']:.2f} ({how}, started at "
               f"{init['value']:.2f}){margin} ({res['seconds']:.1f} s)")
    click.echo(f"wrote {prefix.with_suffix('.json')}, {prefix.with_suffix('.png')}, "
               f"{single.stem}_parts.png (2D part mask), {single.stem}_parts.ply (posed parts) and an eval record "
               f"in {out / 'eval'}")


def _detection_output(path: Path) -> bool:
    """Output of `detect` written before folder markers existed."""
    return any(path.glob("*_part321.json"))


@click.command("part321")
@click.option("--quick", is_flag=True, help="The <= 15-minute configuration (2 categories, small data).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), default=None, help="Write the results JSON.")
@click.option("--categories", default=None, help="Comma-separated categories (default: all, quick: car,kettle).")
@click.option("--test-images", type=config_type(BenchSettings, "test_images"), default=None,
              help="Test images per category (default 15, quick 8).")
@click.option("--workdir", type=click.Path(file_okay=False), default=None,
              help="Models, checkpoints and records (default: <cache>/part321/bench[-quick]); reused when present.")
@click.option("--split", type=click.Choice(["test", "val"]), default="test", show_default=True,
              help="Score the test images, or the validation images (other shapes and poses) to choose settings on.")
@click.option("--distance", type=click.Choice(["given", "estimated"]), default="given", show_default=True,
              help="given: the annotated object distance is known, as in NeMo's evaluation protocol; estimated: "
                   "Part321 estimates it from the object's extent, as on a photo.")
@click.option("--diagnose", is_flag=True,
              help="Also score the test images with the true pose given, the template alone and an oracle choice "
                   "of pose hypothesis (a 'diagnostics' block in the JSON).")
@click.option("--force", is_flag=True, help="Use a non-empty --workdir that partlift did not write.")
@executor_options
@device_option
@click.option("--progress/--no-progress", default=True, show_default=True)
def bench_part321(quick, json_out, categories, test_images, workdir, split, distance, diagnose, force, backend,
                  workers, address, device, progress) -> None:
    """Train and evaluate Part321, its ablations and a 2D U-Net baseline on the embedded data.

    With --workers N (or --backend ray) N categories train and run at once, each on one core; the
    scores do not change, the seconds per image are measured on a shared machine.
    """
    from partlift.datasets.cache import in_cache_dir
    from partlift.experiments.executors import make_executor
    from partlift.experiments.part321_benchmark import format_bench, quick_settings, run_bench
    from partlift.models.device import resolve_device
    from partlift.part321.correspondence import default_cache_dir

    settings = replace(quick_settings() if quick else BenchSettings(), device=str(resolve_device(device)),
                       split=split, distance=distance, diagnose=diagnose)
    if categories:
        settings = replace(settings, categories=tuple(c.strip() for c in categories.split(",") if c.strip()))
    if test_images is not None:
        settings = replace(settings, test_images=int(test_images))
    wd = Path(workdir) if workdir else default_cache_dir() / "part321" / ("bench-quick" if quick else "bench")
    exec_cfg = executor_config(backend, workers, address, settings.device)
    claim_output_dir(wd, "part321-bench", force=force, option="--workdir", recognise=in_cache_dir)
    with make_executor(exec_cfg) as executor:
        result = run_bench(settings, wd, progress=progress, log=click.echo, executor=executor)
    click.echo(format_bench(result))
    _echo_json(result, json_out)


@click.command("transfer")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), default=None, help="Write the results JSON.")
@click.option("--categories", default=None, help="Comma-separated categories (default: all Part321 categories).")
@click.option("--meshes", type=config_type(TransferSettings, "meshes"), default=TransferSettings.meshes,
              show_default=True, help="Target meshes per category.")
@click.option("--methods", default="pointnet,geometric,hybrid", show_default=True,
              help="Correspondence methods to compare.")
@click.option("--progress/--no-progress", default=True, show_default=True)
def bench_transfer(json_out, categories, meshes, methods, progress) -> None:
    """Table 3: transfer the template's parts to other meshes by mesh-to-mesh correspondence."""
    from partlift.experiments.part321_benchmark import format_transfer, run_transfer_bench

    settings = TransferSettings(
        categories=tuple(c.strip() for c in categories.split(",") if c.strip()) if categories else (),
        meshes=int(meshes), methods=tuple(m.strip() for m in methods.split(",") if m.strip()),
    )
    result = run_transfer_bench(settings, progress=progress, log=click.echo)
    click.echo(format_transfer(result))
    _echo_json(result, json_out)
