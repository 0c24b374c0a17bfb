"""Randomised lighting and per-pixel shading on top of the rasteriser's fragments.

The rasteriser (:func:`partlift.render.rasterize`) gives per pixel a face id and perspective-correct
barycentrics; from them :func:`surface_at_pixels` recovers the 3D position, an auto-smoothed normal
and the vertex of largest weight (which carries the part label, docs/CONVENTIONS.md). Shading is
Lambert + Blinn-Phong + a two-colour environment reflection with Schlick's Fresnel term:

    c = albedo * (ambient + sum_k I_k max(n.l_k, 0)) + sum_k I_k spec max(n.h_k, 0)^shininess
        + reflect * F(n.v) * env(r)

with ``env(r)`` a vertical sky/ground gradient of the reflected direction ``r``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numba import njit

from partlift.geometry.partmesh import PartMesh
from partlift.validation import bounded, validate_config


@dataclass(frozen=True)
class LightingConfig:
    """Ranges of the randomised lighting.

    Attributes:
        ambient: (min, max) ambient intensity.
        key_intensity: (min, max) intensity of the key light.
        second_light_prob: probability of a second (fill / rim) light.
        fill_ratio: (min, max) intensity of the second light relative to the key light.
        key_elevation_deg: (min, max) elevation of the key light above the camera's horizon.
        key_azimuth_deg: maximum absolute azimuth of the key light away from the viewing direction.
        color_temperature: maximum warm/cool tint of each light (0 = white).
        exposure: (min, max) global exposure multiplier.
    """

    ambient: tuple[float, float] = bounded((0.15, 0.45), ge=0)
    key_intensity: tuple[float, float] = bounded((0.6, 1.1), ge=0)
    second_light_prob: float = bounded(0.5, ge=0, le=1)
    fill_ratio: tuple[float, float] = bounded((0.2, 0.6), ge=0)
    key_elevation_deg: tuple[float, float] = (10.0, 75.0)
    key_azimuth_deg: float = bounded(100.0, ge=0)
    color_temperature: float = bounded(0.12, ge=0)
    exposure: tuple[float, float] = bounded((0.85, 1.15), gt=0)

    def __post_init__(self) -> None:
        validate_config(self)


@dataclass(frozen=True)
class Light:
    """A directional light. ``direction`` points from the surface towards the light (unit, world)."""

    direction: tuple[float, float, float]
    color: tuple[float, float, float]
    intensity: float


@dataclass(frozen=True)
class Lighting:
    """A lighting setup: ambient term, 1-2 directional lights, environment colours, exposure."""

    ambient: tuple[float, float, float]
    lights: tuple[Light, ...]
    sky: tuple[float, float, float]
    ground: tuple[float, float, float]
    exposure: float

    def to_dict(self) -> dict:
        return {
            "ambient": list(self.ambient),
            "lights": [
                {"direction": list(x.direction), "color": list(x.color), "intensity": x.intensity} for x in self.lights
            ],
            "sky": list(self.sky),
            "ground": list(self.ground),
            "exposure": self.exposure,
        }


def _float3(values: Iterable[float]) -> tuple[float, float, float]:
    x, y, z = (float(v) for v in values)
    return x, y, z


def _tint(rng: np.random.Generator, amount: float) -> tuple[float, float, float]:
    t = rng.uniform(-amount, amount)  # > 0 warm, < 0 cool
    c = np.array([1.0 + t, 1.0 + 0.2 * t, 1.0 - t])
    return _float3(c / c.max())


def sample_lighting(
    rng: np.random.Generator, config: LightingConfig = LightingConfig(), camera_rotation: np.ndarray | None = None
) -> Lighting:
    """Draw a lighting setup.

    Light directions are sampled relative to the viewer (the key light comes from above, within
    ``key_azimuth_deg`` of the camera) and returned in world coordinates using
    ``camera_rotation`` (3, 3) world -> OpenCV camera; without it, relative to +Z with +Y up.
    """
    r_wc = np.eye(3) if camera_rotation is None else np.asarray(camera_rotation, dtype=np.float64).T

    def direction(elev_deg: float, azim_deg: float) -> tuple[float, float, float]:
        e, a = np.radians(elev_deg), np.radians(azim_deg)
        # OpenCV camera frame: towards the camera is -z, up is -y, right is +x
        d_cam = np.array([np.cos(e) * np.sin(a), -np.sin(e), -np.cos(e) * np.cos(a)])
        if camera_rotation is None:
            d_cam = np.array([d_cam[0], -d_cam[1], -d_cam[2]])  # world: up +Y, towards the viewer +Z
            return _float3(d_cam)
        return _float3(r_wc @ d_cam)

    key = Light(
        direction(rng.uniform(*config.key_elevation_deg), rng.uniform(-config.key_azimuth_deg, config.key_azimuth_deg)),
        _tint(rng, config.color_temperature),
        float(rng.uniform(*config.key_intensity)),
    )
    lights = [key]
    if rng.random() < config.second_light_prob:
        lights.append(
            Light(
                direction(rng.uniform(-20.0, 60.0), rng.uniform(-180.0, 180.0)),
                _tint(rng, config.color_temperature),
                float(key.intensity * rng.uniform(*config.fill_ratio)),
            )
        )
    amb = float(rng.uniform(*config.ambient))
    sky = np.clip(np.array([0.75, 0.82, 0.95]) * rng.uniform(0.6, 1.1) + rng.normal(0, 0.05, 3), 0, 1)
    ground = np.clip(np.array([0.35, 0.32, 0.28]) * rng.uniform(0.5, 1.2) + rng.normal(0, 0.05, 3), 0, 1)
    return Lighting(
        ambient=_float3(amb * c for c in _tint(rng, config.color_temperature / 2)),
        lights=tuple(lights),
        sky=_float3(sky),
        ground=_float3(ground),
        exposure=float(rng.uniform(*config.exposure)),
    )


def shade(
    albedo: np.ndarray,
    normals: np.ndarray,
    view_dirs: np.ndarray,
    lighting: Lighting,
    specular: np.ndarray | None = None,
    shininess: np.ndarray | None = None,
    reflect: np.ndarray | None = None,
) -> np.ndarray:
    """Shade surface points (formula in the module docstring).

    Args:
        albedo: (N, 3) RGB in [0, 1].
        normals: (N, 3) unit normals (world); flipped to face the viewer if needed.
        view_dirs: (N, 3) unit vectors from the surface towards the viewer (world).
        lighting: the lights.
        specular, shininess, reflect: optional (N,) gloss parameters (0 / 1 / 0 if omitted).

    Returns:
        (N, 3) float32 RGB in [0, 1].
    """
    a = np.asarray(albedo, dtype=np.float32)
    n = np.asarray(normals, dtype=np.float32)
    v = np.asarray(view_dirs, dtype=np.float32)
    ndv = np.einsum("nd,nd->n", n, v)
    n = np.where((ndv < 0)[:, None], -n, n)  # two-sided: back faces seen through openings
    ndv = np.abs(ndv)
    diffuse = np.tile(np.asarray(lighting.ambient, np.float32), (len(a), 1))
    spec_sum = np.zeros_like(a)
    for light in lighting.lights:
        d = np.asarray(light.direction, np.float32)
        col = np.asarray(light.color, np.float32) * light.intensity
        ndl = np.clip(n @ d, 0.0, None)
        diffuse += ndl[:, None] * col[None, :]
        if specular is not None:
            h = v + d[None, :]
            h /= np.maximum(np.linalg.norm(h, axis=1, keepdims=True), 1e-8)
            ndh = np.clip(np.einsum("nd,nd->n", n, h), 0.0, 1.0)
            s = specular * np.power(ndh, 1.0 if shininess is None else shininess) * (ndl > 0)
            spec_sum += s[:, None] * col[None, :]
    out = a * diffuse + spec_sum
    if reflect is not None:
        r = 2.0 * ndv[:, None] * n - v  # reflected view direction
        t = np.clip(0.5 + 0.5 * r[:, 1], 0.0, 1.0)[:, None]
        env = (1.0 - t) * np.asarray(lighting.ground, np.float32) + t * np.asarray(lighting.sky, np.float32)
        fresnel = reflect + (1.0 - reflect) * (1.0 - ndv) ** 5 * (reflect > 0)
        out = out * (1.0 - 0.5 * fresnel[:, None]) + fresnel[:, None] * env
    return np.clip(out * lighting.exposure, 0.0, 1.0).astype(np.float32)


# ------------------------------------------------------------------------------ surface geometry
@njit(cache=True)
def _corner_normals(faces, face_n, face_area, vert_face_ptr, vert_faces, cos_limit):
    nf = faces.shape[0]
    out = np.zeros((nf, 3, 3), dtype=np.float32)
    for f in range(nf):
        fn = face_n[f]
        for k in range(3):
            v = faces[f, k]
            sx, sy, sz = 0.0, 0.0, 0.0
            for q in range(vert_face_ptr[v], vert_face_ptr[v + 1]):
                g = vert_faces[q]
                gn = face_n[g]
                if fn[0] * gn[0] + fn[1] * gn[1] + fn[2] * gn[2] >= cos_limit:
                    w = face_area[g]
                    sx += w * gn[0]
                    sy += w * gn[1]
                    sz += w * gn[2]
            norm = np.sqrt(sx * sx + sy * sy + sz * sz)
            if norm > 0.0:
                out[f, k, 0], out[f, k, 1], out[f, k, 2] = sx / norm, sy / norm, sz / norm
            else:
                out[f, k, 0], out[f, k, 1], out[f, k, 2] = fn[0], fn[1], fn[2]
    return out


def corner_normals(mesh: PartMesh, smooth_angle_deg: float = 35.0) -> np.ndarray:
    """Auto-smoothed normals per face corner.

    The normal of corner (f, k) averages (by area) the normals of the faces around vertex
    ``faces[f, k]`` that lie within ``smooth_angle_deg`` of face ``f``'s normal: curved surfaces
    look smooth and creases (box edges, cylinder rims) stay sharp.

    Returns:
        (F, 3, 3) float32 unit normals, [face, corner, xyz].
    """
    faces = mesh.faces
    face_n = mesh.face_normals().astype(np.float64)
    area = mesh.face_areas()
    order = np.argsort(faces.ravel(), kind="stable")
    vert_faces = (order // 3).astype(np.int64)
    counts = np.bincount(faces.ravel(), minlength=len(mesh.vertices))
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return _corner_normals(faces, face_n, area, ptr, vert_faces, float(np.cos(np.radians(smooth_angle_deg))))


@dataclass
class SurfaceSamples:
    """Surface attributes at the covered pixels of one view.

    Attributes:
        pixels: (N,) int64 flat pixel index (row * W + col) of each sample.
        face: (N,) int64 face index.
        points: (N, 3) float64 world position.
        normals: (N, 3) float32 unit auto-smoothed normal.
        vertex: (N,) int64 the face vertex with the largest barycentric weight.
    """

    pixels: np.ndarray
    face: np.ndarray
    points: np.ndarray
    normals: np.ndarray
    vertex: np.ndarray


def surface_at_pixels(
    mesh: PartMesh, face_ids: np.ndarray, bary: np.ndarray, corner_n: np.ndarray | None = None
) -> SurfaceSamples:
    """Recover per-pixel surface attributes from one view's fragments.

    Args:
        mesh: the rasterised mesh.
        face_ids: (H, W) int face index, -1 = background.
        bary: (H, W, 3) barycentric weights.
        corner_n: optional precomputed :func:`corner_normals`.
    """
    flat = face_ids.ravel()
    pix = np.flatnonzero(flat >= 0)
    f = flat[pix].astype(np.int64)
    w = bary.reshape(-1, 3)[pix].astype(np.float64)
    tri = mesh.faces[f]
    pts = np.einsum("nk,nkd->nd", w, mesh.vertices[tri].astype(np.float64))
    cn = corner_normals(mesh) if corner_n is None else corner_n
    nrm = np.einsum("nk,nkd->nd", w, cn[f].astype(np.float64))
    nrm /= np.maximum(np.linalg.norm(nrm, axis=1, keepdims=True), 1e-12)
    vert = tri[np.arange(len(f)), w.argmax(axis=1)]
    return SurfaceSamples(pix, f, pts, nrm.astype(np.float32), vert)
