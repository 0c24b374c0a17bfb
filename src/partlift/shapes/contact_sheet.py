"""PNG contact sheets: a grid of generated instances with their parts coloured.

Tiles are rendered with :func:`partlift.render.render_mesh` (z-buffered, Lambert shading, part
palette :func:`partlift.render.shading.part_palette`, grey for unlabelled), supersampled 2x.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from partlift.geometry.partmesh import PartMesh
from partlift.render.camera import Camera
from partlift.render.shading import UNLABELLED_COLOR, part_palette, render_mesh


def render_tile(
    mesh: PartMesh, elev: float = 22.0, azim: float = 40.0, size: int = 160, supersample: int = 2
) -> np.ndarray:
    """(size, size, 3) uint8 image of a unit-box mesh coloured by part.

    The camera looks at the origin from elevation ``elev`` and azimuth ``azim`` (degrees; azimuth
    0 = from the front +Z, 90 = from the object's left +X), 30 degree field of view.
    """
    s = size * supersample
    cam = Camera.look_at(azimuth=azim, elevation=elev, distance=3.0, fov=30.0, width=s, height=s, degrees=True)
    img = render_mesh(mesh, cam, color_by="parts", num_threads=1).rgb[0].astype(np.float64)
    img = img.reshape(size, supersample, size, supersample, 3).mean(axis=(1, 3))
    return np.round(img).astype(np.uint8)


def contact_sheet(
    meshes: Sequence[PartMesh],
    path: str | os.PathLike,
    cols: int = 4,
    tile: int = 160,
    elev: float = 22.0,
    azim: float = 40.0,
    titles: Sequence[str] | None = None,
) -> Path:
    """Write a PNG grid of ``meshes`` (all of one category) with a part-colour legend; returns the path.

    Even tiles are seen from (elev, azim) (default: front-left, above), odd tiles from the opposite
    side (azim + 180 degrees) so right-side and rear parts show too.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    if not meshes:
        raise ValueError("contact_sheet needs at least one mesh")
    cols = min(cols, len(meshes))
    rows = int(np.ceil(len(meshes) / cols))
    names = list(meshes[0].part_names)
    pal = part_palette(len(names)).astype(np.float64) / 255.0
    legend_rows = int(np.ceil((len(names) + 1) / 4))
    legend_px = 13 * legend_rows + 8
    dpi = 100
    h_total = rows * tile + legend_px
    fig = plt.figure(figsize=(cols * tile / dpi, h_total / dpi), dpi=dpi)
    for i, m in enumerate(meshes):
        r, c = divmod(i, cols)
        ax = fig.add_axes((c / cols, 1 - (r + 1) * tile / h_total, 1 / cols, tile / h_total))
        ax.imshow(render_tile(m, elev, azim if i % 2 == 0 else azim + 180.0, tile), interpolation="nearest")
        ax.axis("off")
        label = titles[i] if titles is not None else m.name
        ax.text(0.02, 0.02, label, transform=ax.transAxes, fontsize=5, color="0.35")
    handles = [Patch(facecolor=tuple(pal[k]), label=nm) for k, nm in enumerate(names)]
    if any(m.part_mask(-1).any() for m in meshes):
        handles.append(Patch(facecolor=tuple(np.asarray(UNLABELLED_COLOR) / 255.0), label="(unlabelled)"))
    lax = fig.add_axes((0, 0, 1, legend_px / h_total))
    lax.axis("off")
    lax.legend(
        handles=handles,
        loc="center",
        ncol=4,
        fontsize=5.5,
        frameon=False,
        handlelength=1.0,
        columnspacing=0.8,
        handletextpad=0.3,
        borderaxespad=0.0,
    )
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi, facecolor="white")
    plt.close(fig)
    return out
