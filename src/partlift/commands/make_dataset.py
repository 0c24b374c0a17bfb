"""`partlift make-dataset images | points`: DST-Part3D-style image and PartNetE-style point datasets."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from partlift.commands.options import FiniteFloat, executor_config, executor_options
from partlift.outputs import claim_output_dir, read_format_json


@click.group("make-dataset")
def make_dataset() -> None:
    """Generate synthetic part datasets from the procedural shapes (resumable, parallel)."""


def _parse_set(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in values:
        key, sep, raw = item.partition("=")
        if not sep:
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--set")
        out[key] = raw
    return out


def _apply_overrides(config, overrides: dict[str, str]):
    from partlift.validation import config_with

    return config_with(config, overrides, "--set")


_SET_HELP = ("Override any config field, e.g. --set pose.theta_std_deg=5 (repeatable; numbers, lists and null "
             "as JSON).")
_FORCE_HELP = "Write into a non-empty --out folder that is not a partlift dataset of this kind."
_VERIFY_HELP = ("Before reusing finished files of an earlier run, check their SHA-256 against the manifest "
                "(default: only that each exists with its recorded size); damaged items are regenerated.")


def _has_manifest(path: Path) -> bool:
    """A partlift dataset manifest (datasets written before output markers existed carry one)."""
    from partlift.datasets.generation import MANIFEST_FORMAT

    return read_format_json(path, MANIFEST_FORMAT) is not None


@make_dataset.command("images")
@click.option("--category", default=None,
              help="Procedural category (see `partlift shapes list`); with --meshes, the name of your category "
                   "(default: the folder's name).")
@click.option("--meshes", "meshes_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Your own category: a folder of meshes for the train and test splits (test meshes need "
                   ".labels.json sidecars); with --template.")
@click.option("--template", "template_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Your own category: the one labelled template mesh (with its .labels.json sidecar).")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@click.option("--n-train-meshes", type=click.IntRange(0), default=10, show_default=True)
@click.option("--n-test-meshes", type=click.IntRange(0), default=5, show_default=True)
@click.option("--views-per-mesh", type=click.IntRange(0), default=20, show_default=True)
@click.option("--template-views", type=click.IntRange(0), default=None, help="[default: --views-per-mesh]")
@click.option("--size", type=click.IntRange(8, 4096), default=128, show_default=True, help="Image side in pixels.")
@click.option("--pose-preset", type=click.IntRange(1, 5), default=None, help="3D-DST pose-sampling preset 1-5.")
@click.option("--theta-std", type=FiniteFloat(0), default=0.0, show_default=True,
              help="In-plane rotation sd (degrees).")
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True)
@executor_options
@click.option("--set", "sets", multiple=True, help=_SET_HELP)
@click.option("--force", is_flag=True, help=_FORCE_HELP)
@click.option("--verify", is_flag=True, help=_VERIFY_HELP)
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
def images(category: str | None, meshes_dir: Path | None, template_path: Path | None, out: Path, n_train_meshes: int,
           n_test_meshes: int, views_per_mesh: int,
           template_views: int | None, size: int, pose_preset: int | None, theta_std: float, seed: int, backend: str,
           workers: int | None, address: str | None, sets: tuple[str, ...], force: bool, verify: bool,
           no_progress: bool) -> None:
    """Rendered views with pose, depth, part masks and edges, split into template / train / test.

    Finished items in OUT are skipped, so an interrupted run resumes (with any backend: the files
    are the same byte for byte); items with missing or damaged files (see --verify) are regenerated.
    """
    from partlift.datasets.images import ImageDatasetConfig, generate_image_dataset
    from partlift.datasets.poses import PoseSampling
    from partlift.errors import PartliftError
    from partlift.experiments.executors import make_executor

    if (meshes_dir is None) != (template_path is None):
        raise PartliftError("--meshes and --template go together: a folder of meshes and one labelled template")
    if meshes_dir is not None and template_path is not None:
        if not meshes_dir.is_dir():
            raise PartliftError(f"--meshes: folder not found: {meshes_dir}")
        if not template_path.is_file():
            raise PartliftError(f"--template: file not found: {template_path}")
        category = category or meshes_dir.resolve().name
    elif not category:
        raise PartliftError("give --category C (procedural; see `partlift shapes list`) or --meshes DIR --template "
                            "MESH (your own)")
    pose = PoseSampling.dst_preset(pose_preset) if pose_preset else PoseSampling()
    pose = replace(pose, theta_std_deg=float(theta_std))
    config = ImageDatasetConfig(
        category=category, n_train_meshes=n_train_meshes, n_test_meshes=n_test_meshes,
        views_per_mesh=views_per_mesh, template_views=views_per_mesh if template_views is None else template_views,
        size=size, seed=seed, pose=pose,
        meshes=str(meshes_dir.resolve()) if meshes_dir is not None else None,
        template=str(template_path.resolve()) if template_path is not None else None,
    )
    config = _apply_overrides(config, _parse_set(sets))
    exec_cfg = executor_config(backend, workers, address)
    claim_output_dir(out, "dataset-images", force=force, recognise=lambda p: _has_manifest(p / "manifest.json"))
    with make_executor(exec_cfg) as executor:
        root = generate_image_dataset(config, out, progress=not no_progress, executor=executor, verify=verify,
                                      log=click.echo)
    shapes = config.shapes()
    n = config.template_views + (len(shapes["train"]) + len(shapes["test"])) * config.views_per_mesh
    click.echo(f"{n} images of {category} in {root}")


@make_dataset.command("points")
@click.option("--category", multiple=True,
              help="Procedural PartNetE-style category (repeatable, or 'all'); with --meshes, the name of your "
                   "category (default: the folder's name).")
@click.option("--meshes", "meshes_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Your own category: a folder of labelled meshes (each with its .labels.json sidecar), "
                   "split into few_shot / val / test by --seed (docs/FORMATS.md, 'Your own meshes').")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output root.")
@click.option("--n-few-shot", type=click.IntRange(0), default=8, show_default=True)
@click.option("--n-val", type=click.IntRange(0), default=8, show_default=True)
@click.option("--n-test", type=click.IntRange(0), default=20, show_default=True)
@click.option("--n-points", type=click.IntRange(1), default=10_000, show_default=True)
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True)
@executor_options
@click.option("--set", "sets", multiple=True, help=_SET_HELP)
@click.option("--force", is_flag=True, help=_FORCE_HELP)
@click.option("--verify", is_flag=True, help=_VERIFY_HELP)
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
def points(category: tuple[str, ...], meshes_dir: Path | None, out: Path, n_few_shot: int, n_val: int, n_test: int,
           n_points: int, seed: int, backend: str, workers: int | None, address: str | None, sets: tuple[str, ...],
           force: bool, verify: bool, no_progress: bool) -> None:
    """Coloured labelled point clouds in PartNetE's layout (few_shot / val / test, meta.json, split
    lists): of procedural categories (--category), or of your own labelled meshes (--meshes DIR)."""
    from partlift.datasets.points import PointsDatasetConfig, generate_points_dataset
    from partlift.datasets.shape_source import shape_categories
    from partlift.errors import PartliftError
    from partlift.experiments.executors import make_executor

    cats = list(category)
    meshes = None
    if meshes_dir is not None:
        if len(cats) > 1 or "all" in cats:
            raise PartliftError("--category: with --meshes give at most one name for your category")
        if not meshes_dir.is_dir():
            raise PartliftError(f"--meshes: folder not found: {meshes_dir}")
        cats = cats or [meshes_dir.resolve().name]
        meshes = str(meshes_dir.resolve())
    elif not cats:
        raise PartliftError("give --category C (procedural; see `partlift shapes list`) or --meshes DIR (your own)")
    if "all" in cats:
        cats = shape_categories("partnete")
    overrides = _parse_set(sets)
    configs = [_apply_overrides(PointsDatasetConfig(category=cat, n_few_shot=n_few_shot, n_val=n_val, n_test=n_test,
                                                    n_points=n_points, seed=seed, meshes=meshes), overrides)
               for cat in cats]
    exec_cfg = executor_config(backend, workers, address)
    claim_output_dir(out, "dataset-points", force=force,
                     recognise=lambda p: any(_has_manifest(m) for m in p.glob("manifests/*.json")))
    with make_executor(exec_cfg) as executor:
        for config in configs:
            generate_points_dataset(config, out, progress=not no_progress, executor=executor, verify=verify,
                                    log=click.echo)
            n = sum(len(v) for v in config.shapes().values())
            click.echo(f"{n} {config.category} point clouds in {out}")
