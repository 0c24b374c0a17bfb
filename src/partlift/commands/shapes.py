"""`partlift shapes list | show | export`: the procedural part-annotated shape categories."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import numpy as np

MESH_FORMATS = ("ply", "obj", "glb", "off")


@click.group("shapes")
def shapes() -> None:
    """Procedural part-annotated shapes (Part321 and PartNetE categories), deterministic by seed."""


@shapes.command("list")
@click.option("--kind", type=click.Choice(["part321", "partnete"]), default=None, help="Only one registry.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_cmd(kind: str | None, as_json: bool) -> None:
    """List the categories with their kind, super-category and part names."""
    from partlift.shapes import category_info, list_categories

    rows = []
    for name in list_categories(kind):
        info = category_info(name)
        rows.append(
            {
                "name": name,
                "kind": info.kind,
                "super_category": info.super_category,
                "parts": list(info.part_names),
                "optional_parts": list(info.optional_parts),
                "unlabelled_regions": list(info.unlabelled_regions),
            }
        )
    if as_json:
        click.echo(json.dumps(rows, indent=1))
        return
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        parts = ", ".join(p + ("?" if p in r["optional_parts"] else "") for p in r["parts"])
        click.echo(f"{r['name']:<{width}}  {r['kind']:<8}  {r['super_category']:<9}  {parts}")
    click.echo("(? = optional part, absent in some styles)")


@shapes.command("show")
@click.argument("category")
@click.option("--n", "n", type=click.IntRange(1, 64), default=8, show_default=True, help="Instances.")
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True, help="First seed.")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="PNG path [default: <category>.png]."
)
@click.option("--cols", type=click.IntRange(1), default=4, show_default=True)
@click.option("--tile", type=click.IntRange(32, 1024), default=160, show_default=True, help="Tile size in pixels.")
def show(category: str, n: int, seed: int, out: Path | None, cols: int, tile: int) -> None:
    """Write a PNG contact sheet of CATEGORY instances with parts coloured."""
    from partlift.shapes import generate_many
    from partlift.shapes.contact_sheet import contact_sheet

    meshes = generate_many(category, n, seed)
    path = contact_sheet(meshes, out or Path(f"{category}.png"), cols=cols, tile=tile)
    click.echo(str(path))


@shapes.command("export")
@click.argument("category")
@click.option("--n", "n", type=click.IntRange(1), default=8, show_default=True, help="Instances.")
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True, help="First seed.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Output folder.")
@click.option("--format", "fmt", type=click.Choice(MESH_FORMATS), default="ply", show_default=True)
@click.option("--force", is_flag=True, help="Write into a non-empty --out folder that partlift did not write.")
def export(category: str, n: int, seed: int, out: Path, fmt: str, force: bool) -> None:
    """Write N meshes of CATEGORY with label sidecars and correspondence data.

    Per instance: ``<category>_<seed>.<format>`` (vertex colours), ``<stem>.labels.json`` (part
    names, per-vertex labels and instances) and ``<stem>.corr.npz`` (``corr`` (V, 3) float32,
    ``part_instance_key`` (V,) int64, ``region`` (V,) int64 and ``region_names``). A
    ``manifest.json`` lists the files and each instance's style.
    """
    from partlift.geometry.io import save_part_mesh
    from partlift.outputs import claim_output_dir
    from partlift.shapes import category_info, generate

    info = category_info(category)
    claim_output_dir(out, "shapes-export", force=force,
                     recognise=lambda p: any(p.glob("*.corr.npz")) and (p / "manifest.json").is_file())
    manifest: dict[str, Any] = {"category": info.name, "kind": info.kind, "part_names": list(info.part_names),
                                "instances": []}
    for s in range(seed, seed + n):
        mesh = generate(info.name, s)
        mesh_path = out / f"{mesh.name}.{fmt}"
        sidecar = save_part_mesh(mesh, mesh_path)
        corr_path = out / f"{mesh.name}.corr.npz"
        np.savez_compressed(
            corr_path,
            corr=mesh.extras["corr"],
            part_instance_key=mesh.extras["part_instance_key"],
            region=mesh.extras["region"],
            region_names=np.asarray(mesh.extras["region_names"]),
        )
        style = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in mesh.extras["style"].items()}
        manifest["instances"].append(
            {
                "seed": s,
                "mesh": mesh_path.name,
                "labels": sidecar.name,
                "corr": corr_path.name,
                "num_vertices": len(mesh.vertices),
                "style": style,
            }
        )
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    click.echo(f"wrote {n} {info.name} meshes to {out}")
