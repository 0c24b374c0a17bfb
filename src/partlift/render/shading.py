"""Shaded mesh rendering with part / instance masks, and the shared part colour palette.

Mask rule: the label of a covered pixel is the label of the vertex of its face with the largest
barycentric weight (ties -> the face's first such corner), so part boundaries inside a face follow
the face's Voronoi split exactly, consistently in masks and in "parts" colouring.
"""

from __future__ import annotations

import colorsys
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from partlift.geometry.partmesh import PartMesh
from partlift.render.camera import Camera
from partlift.render.rasterize import rasterize
from partlift.validation import bounded, validate_config

_GOLDEN = 0.618033988749895
UNLABELLED_COLOR = (170, 170, 170)


def part_palette(n: int) -> np.ndarray:
    """(n, 3) uint8 deterministic, pairwise distinct colours for part / instance ids 0 .. n-1.

    Hues follow the golden-ratio sequence (consecutive ids get very different hues); saturation and
    value cycle through three levels each, never reaching white, black or grey, so parts stay
    distinguishable from a white background and from :data:`UNLABELLED_COLOR`.
    """
    if n < 0:
        raise ValueError(f"part_palette: n must be >= 0, got {n}")
    out = np.empty((n, 3), dtype=np.uint8)
    seen: set[tuple[int, ...]] = set()
    k = 0
    for i in range(n):
        while True:
            h = (0.02 + k * _GOLDEN) % 1.0
            s = (0.85, 0.6, 0.95)[k % 3]
            v = (0.9, 0.7, 0.55)[(k // 3) % 3]
            rgb = tuple(int(round(c * 255)) for c in colorsys.hsv_to_rgb(h, s, v))
            k += 1
            if rgb not in seen:  # hue collisions after rounding are skipped, keeping colours distinct
                break
        seen.add(rgb)
        out[i] = rgb
    return out


@dataclass(frozen=True)
class ShadingConfig:
    """Lambert + ambient shading.

    Attributes:
        light_dir: direction from the surface towards the light. In camera coordinates (x right,
            y down, z forward) if ``light_in_camera``, else in world coordinates. The default comes
            from the camera's upper left, so every visible surface gets some light.
        light_in_camera: interpret ``light_dir`` in the camera frame (a light that moves with the
            camera) rather than the world frame.
        ambient: intensity added everywhere (0..1).
        diffuse: weight of the Lambert term ``max(0, n . l)``.
        smooth: interpolate vertex normals (True) or use flat face normals (False).
    """

    light_dir: tuple[float, float, float] = (-0.3, -0.5, -1.0)
    light_in_camera: bool = True
    ambient: float = bounded(0.35, ge=0, le=1)
    diffuse: float = bounded(0.65, ge=0)
    smooth: bool = True

    def __post_init__(self) -> None:
        validate_config(self)


@dataclass
class MeshRender:
    """Output of :func:`render_mesh` for ``B`` views.

    Attributes:
        rgb: (B, H, W, 3) uint8 shaded image.
        depth: (B, H, W) float32 camera z, ``np.inf`` on background.
        face_ids: (B, H, W) int32 visible face, -1 on background.
        bary: (B, H, W, 3) float32 perspective-correct barycentrics.
        part_masks: (B, H, W) int64 part label per pixel, -1 on background (and on unlabelled vertices).
        instance_masks: (B, H, W) int64 instance id per pixel (-1 background / none), or None when the
            mesh has no instances.
    """

    rgb: np.ndarray
    depth: np.ndarray
    face_ids: np.ndarray
    bary: np.ndarray
    part_masks: np.ndarray
    instance_masks: np.ndarray | None

    def __len__(self) -> int:
        return self.rgb.shape[0]

    def view(self, index: int) -> dict[str, np.ndarray]:
        """The arrays of one view by name: rgb (H, W, 3) uint8, depth, face_ids, part_mask, instance_mask."""
        out = {
            "rgb": self.rgb[index],
            "depth": self.depth[index],
            "face_ids": self.face_ids[index],
            "part_mask": self.part_masks[index],
        }
        if self.instance_masks is not None:
            out["instance_mask"] = self.instance_masks[index]
        return out


def nearest_corner_labels(face_ids: np.ndarray, bary: np.ndarray, faces: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per-pixel label of the face corner with the largest barycentric weight (-1 on background).

    Args:
        face_ids: (..., H, W) int face index, -1 = background.
        bary: (..., H, W, 3) barycentrics.
        faces: (F, 3) vertex indices.
        labels: (V,) integer label per vertex.
    """
    out = np.full(face_ids.shape, -1, dtype=np.int64)
    m = face_ids >= 0
    corner = np.argmax(bary[m], axis=-1)
    out[m] = np.asarray(labels, dtype=np.int64)[faces[face_ids[m], corner]]
    return out


def _label_colors(lab: np.ndarray) -> np.ndarray:
    """(N, 3) float colours in [0, 1] of labels (palette; grey for -1)."""
    pal = part_palette(int(lab.max(initial=-1)) + 1).astype(np.float64) / 255.0
    col = np.tile(np.asarray(UNLABELLED_COLOR, dtype=np.float64) / 255.0, (len(lab), 1))
    ok = lab >= 0
    col[ok] = pal[lab[ok]]
    return col


def render_mesh(
    mesh: PartMesh,
    cameras: Sequence[Camera] | Camera,
    color_by: str = "auto",
    shading: ShadingConfig = ShadingConfig(),  # noqa: B008 - frozen, so a shared default is safe
    background: np.ndarray | Sequence[int] = (255, 255, 255),
    cull_backfaces: bool = False,
    num_threads: int | None = None,
) -> MeshRender:
    """Render a :class:`PartMesh` with Lambert shading, plus depth, face ids and part/instance masks.

    Args:
        mesh: the mesh (vertices in world coordinates).
        cameras: one camera or ``B`` cameras sharing one image size.
        color_by: "vertex" (interpolated ``mesh.colors``), "parts" (palette colour of the pixel's
            part label), "instances" (palette colour of the instance id), "uniform" (light grey), or
            "auto": vertex colours if present, else parts if any vertex is labelled, else uniform.
        shading: light and shading parameters. Lighting is two-sided (a face seen from behind is lit
            as if its normal pointed at the camera).
        background: an RGB colour, or an (H, W, 3) uint8 image composited where no face is visible.
        cull_backfaces: drop faces seen from behind.
        num_threads: threads for the rasteriser.
    """
    if isinstance(cameras, Camera):
        cameras = [cameras]
    cameras = list(cameras)
    frag = rasterize(mesh.vertices, mesh.faces, cameras, cull_backfaces=cull_backfaces, num_threads=num_threads)
    nb, h, w = frag.face_ids.shape
    bg = np.asarray(background)
    if bg.ndim == 3:
        if bg.shape != (h, w, 3):
            raise ValueError(f"render_mesh: background image must have shape ({h}, {w}, 3), got {bg.shape}")
    elif bg.shape != (3,):
        raise ValueError(f"render_mesh: background must be an RGB triple or an (H, W, 3) image, got {bg.shape}")
    bg = bg.astype(np.uint8)

    faces = mesh.faces
    assert frag.bary is not None and mesh.labels is not None  # with_bary; PartMesh.__post_init__
    part_masks = nearest_corner_labels(frag.face_ids, frag.bary, faces, mesh.labels)
    inst_masks = None
    if mesh.instances is not None:
        inst_masks = nearest_corner_labels(frag.face_ids, frag.bary, faces, mesh.instances)

    if color_by == "auto":
        if mesh.colors is not None:
            color_by = "vertex"
        elif (mesh.labels >= 0).any():
            color_by = "parts"
        else:
            color_by = "uniform"
    if color_by == "instances" and inst_masks is None:
        raise ValueError("render_mesh: color_by='instances' but the mesh has no instance ids")
    if color_by == "vertex" and mesh.colors is None:
        raise ValueError("render_mesh: color_by='vertex' but the mesh has no vertex colours")
    if color_by not in ("vertex", "parts", "instances", "uniform"):
        raise ValueError(f"render_mesh: unknown color_by {color_by!r}")

    rgb = np.empty((nb, h, w, 3), dtype=np.uint8)
    rgb[...] = bg
    light = np.asarray(shading.light_dir, dtype=np.float64)
    light = light / np.linalg.norm(light)
    vn = mesh.vertex_normals().astype(np.float64)
    fn = mesh.face_normals().astype(np.float64)
    for b, cam in enumerate(cameras):
        m = frag.face_ids[b] >= 0
        fid = frag.face_ids[b][m]
        wts = frag.bary[b][m].astype(np.float64)  # (N, 3)
        tri = faces[fid]
        if color_by == "vertex":
            assert mesh.colors is not None  # checked above
            base = np.einsum("nk,nkc->nc", wts, mesh.colors[tri].astype(np.float64))
        elif color_by == "parts":
            base = _label_colors(part_masks[b][m])
        elif color_by == "instances":
            assert inst_masks is not None  # checked above
            base = _label_colors(inst_masks[b][m])
        else:
            base = np.full((len(fid), 3), 0.8)
        r = cam.rotation
        n_face = fn[fid] @ r.T
        n = np.einsum("nk,nkc->nc", wts, vn[tri]) @ r.T if shading.smooth else n_face
        n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
        # Two-sided: flip normals of faces seen from behind (camera-space point P has n . P > 0).
        p = (wts[:, :, None] * (mesh.vertices[tri].astype(np.float64) @ r.T + cam.translation)).sum(1)
        n[np.einsum("nc,nc->n", n_face, p) > 0] *= -1.0
        l_cam = light if shading.light_in_camera else r @ light
        intensity = shading.ambient + shading.diffuse * np.clip(n @ l_cam, 0.0, None)
        col = np.clip(base * intensity[:, None], 0.0, 1.0)
        rgb[b][m] = np.round(col * 255.0).astype(np.uint8)
    return MeshRender(
        rgb=rgb, depth=frag.depth, face_ids=frag.face_ids, bary=frag.bary,
        part_masks=part_masks, instance_masks=inst_masks,
    )


def label_colors(labels: np.ndarray, num_parts: int) -> np.ndarray:
    """(N, 3) float32 colours in [0, 1] of (N,) part labels: :func:`part_palette`, grey 0.75 for -1."""
    pal = np.asarray(part_palette(max(num_parts, 1)), np.float32)
    pal = pal / 255.0 if pal.max() > 1.0 else pal
    out = np.full((len(labels), 3), 0.75, np.float32)
    ok = labels >= 0
    out[ok] = pal[labels[ok], :3]
    return out
