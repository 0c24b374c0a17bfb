"""`partlift render MESH --out DIR`: RGB, part colours, depth, face ids, labels and cameras per view."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import click
import numpy as np

from partlift.commands.options import config_type
from partlift.geometry.atomic import atomic_write_json
from partlift.validation import bounded, validate_config


@dataclass(frozen=True)
class RenderCommandConfig:
    """Settings of ``partlift render`` (saved as ``render_config.json`` beside the outputs).

    Attributes:
        views: "partslip" (PartSLIP's 10 views), "orbit:N" (N azimuths at 20 deg elevation) or an
            explicit list "elev,azim;elev,azim;..." in degrees.
        size: image width and height in pixels.
        distance: camera distance from the origin (after normalisation).
        fov: full vertical field of view in degrees.
        normalize: "sphere" (PartSLIP: mean at the origin, max radius 1), "box" (3D-DST: bounding box
            centred, longest side 1) or "none" (keep the file's coordinates).
        cull_backfaces: drop faces seen from behind.
    """

    views: str = "partslip"
    size: int = bounded(256, ge=8, le=4096)
    distance: float = bounded(2.2, gt=0)
    fov: float = bounded(60.0, ge=1, le=170)
    normalize: Literal["sphere", "box", "none"] = "sphere"
    cull_backfaces: bool = False

    def __post_init__(self) -> None:
        validate_config(self)


def parse_views(spec: str) -> list[tuple[float, float]]:
    """Parse a view spec into (elevation, azimuth) pairs in degrees."""
    from partlift.render.camera import PARTSLIP_VIEWS

    spec = spec.strip()
    if spec == "partslip":
        return [(float(e), float(a)) for e, a in PARTSLIP_VIEWS]
    if spec.startswith("orbit:"):
        try:
            n = int(spec.split(":", 1)[1])
        except ValueError:
            n = 0
        if n <= 0:
            raise click.BadParameter(f"orbit needs a positive view count, got {spec!r}", param_hint="--views")
        return [(20.0, 360.0 * k / n) for k in range(n)]
    views = []
    for item in filter(None, spec.split(";")):
        try:
            e, a = (float(x) for x in item.split(","))
        except ValueError:
            raise click.BadParameter(
                f"cannot parse view {item!r}; use 'partslip', 'orbit:N' or 'elev,azim;elev,azim'", param_hint="--views"
            ) from None
        views.append((e, a))
    if not views:
        raise click.BadParameter("no views given", param_hint="--views")
    return views


@click.command()
@click.argument("mesh", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path), help="Output folder.")
@click.option("--views", default=RenderCommandConfig.views, show_default=True,
              help="'partslip', 'orbit:N' or 'elev,azim;elev,azim;...' (degrees).")
@click.option("--size", default=RenderCommandConfig.size, show_default=True,
              type=config_type(RenderCommandConfig, "size"),
              help="Image width and height in pixels.")
@click.option("--distance", default=RenderCommandConfig.distance, show_default=True,
              type=config_type(RenderCommandConfig, "distance"),
              help="Camera distance from the origin.")
@click.option("--fov", default=RenderCommandConfig.fov, show_default=True, type=config_type(RenderCommandConfig, "fov"),
              help="Vertical field of view in degrees.")
@click.option("--normalize", type=config_type(RenderCommandConfig, "normalize"), default=RenderCommandConfig.normalize,
              show_default=True, help="Normalise the mesh before placing cameras.")
@click.option("--cull-backfaces", is_flag=True, help="Drop faces seen from behind.")
@click.option("--labels", "labels_path", type=click.Path(path_type=Path), default=None,
              help="Label sidecar (default: <mesh stem>.labels.json beside the mesh, if present).")
@click.option("--force", is_flag=True, help="Write into a non-empty --out folder that partlift did not write.")
def render(mesh: Path, out_dir: Path, views: str, size: int, distance: float, fov: float,
           normalize: Literal["sphere", "box", "none"], cull_backfaces: bool, labels_path: Path | None,
           force: bool) -> None:
    """Render MESH from several views on the CPU.

    Writes per view: view_NNN.png (shaded), view_NNN_parts.png (part colours), view_NNN_depth.npy,
    view_NNN_face_ids.npy, view_NNN_labels.npy and view_NNN_camera.json (docs/FORMATS.md).
    """
    from PIL import Image
    from tqdm import tqdm

    from partlift.geometry import normalize_unit_box, normalize_unit_sphere
    from partlift.geometry.io import load_part_mesh
    from partlift.outputs import claim_output_dir, refuse_input_overwrite
    from partlift.render import Camera, render_mesh

    config = RenderCommandConfig(views, size, distance, fov, normalize, cull_backfaces)
    view_list = parse_views(views)
    part_mesh = load_part_mesh(mesh, labels_path)
    norm = None
    if normalize == "sphere":
        part_mesh, norm = normalize_unit_sphere(part_mesh)
    elif normalize == "box":
        part_mesh, norm = normalize_unit_box(part_mesh)
    cameras = [Camera.look_at(azimuth=a, elevation=e, distance=distance, fov=fov, width=size, height=size, degrees=True)
               for e, a in view_list]
    out = claim_output_dir(out_dir, "render", force=force,
                           recognise=lambda p: (p / "render_config.json").is_file())
    refuse_input_overwrite([out_dir / "render_config.json"], [mesh] + ([labels_path] if labels_path else []))
    # an earlier render's views must not sit beside these (one from before markers: its fixed names)
    legacy = not out.previous_files and (out_dir / "render_config.json").is_file()
    stale = out.remove_previous()
    for p in sorted(out_dir.glob("view_[0-9][0-9][0-9]*")) if legacy else []:
        p.unlink()
        stale.append(p.name)
    written: list[Path] = []
    assert part_mesh.labels is not None  # set by PartMesh.__post_init__
    has_labels = bool((part_mesh.labels >= 0).any())
    for k, cam in enumerate(tqdm(cameras, desc="render", unit="view", disable=len(cameras) < 4)):
        # the shaded view shows the surface: its own colours, or plain grey - never the part colours
        shaded = render_mesh(part_mesh, cam, color_by="vertex" if part_mesh.colors is not None else "uniform",
                             cull_backfaces=cull_backfaces)
        parts = render_mesh(part_mesh, cam, color_by="parts" if has_labels else "uniform",
                            cull_backfaces=cull_backfaces)
        stem = out_dir / f"view_{k:03d}"
        Image.fromarray(shaded.rgb[0]).save(f"{stem}.png")
        Image.fromarray(parts.rgb[0]).save(f"{stem}_parts.png")
        np.save(f"{stem}_depth.npy", shaded.depth[0])
        np.save(f"{stem}_face_ids.npy", shaded.face_ids[0])
        np.save(f"{stem}_labels.npy", shaded.part_masks[0].astype(np.int16))
        cam.save_json(f"{stem}_camera.json")
        written += [Path(f"{stem}{x}") for x in (".png", "_parts.png", "_depth.npy", "_face_ids.npy", "_labels.npy",
                                                  "_camera.json")]
    meta = {
        "mesh": str(mesh),
        "config": asdict(config),
        "views_deg": [{"elevation": e, "azimuth": a} for e, a in view_list],
        "normalization": None if norm is None else {"offset": norm.offset.tolist(), "scale": norm.scale},
        "part_names": list(part_mesh.part_names),
    }
    atomic_write_json(out_dir / "render_config.json", meta, indent=2)  # last: the views are finished
    out.record([p.name for p in written] + ["render_config.json"])
    note = f" (removed {len(stale)} files of an earlier render)" if stale else ""
    click.echo(f"wrote {len(cameras)} views of {mesh} to {out_dir}{note}")

