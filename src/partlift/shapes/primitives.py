"""Closed triangle-mesh primitives for the procedural shape generators.

Every builder returns a :class:`Primitive` ``(vertices, faces, param)`` in its own local frame:
a closed, consistently wound surface whose faces are counter-clockwise seen from outside
(positive signed volume), without duplicated vertices, plus a per-vertex parametric coordinate
``param`` in [0, 1]^3 that does not depend on the primitive's dimensions. Two primitives built with
the same resolution arguments have the same vertex count and the same ``param`` rows in the same
order, which is what makes ground-truth correspondence between generated shapes exact.

Parametrisations:
- surfaces swept along a path (lathe, loft, sweep, torus, cylinders, spheres):
  ``(s, (1 + cos a) / 2, (1 + sin a) / 2)`` with ``s`` the normalised index of the ring along the
  profile / path (0 at the first point, 1 at the last) and ``a`` the angle around it; cap centres and
  poles sit at ``(s, 0.5, 0.5)``. Using the index rather than the arc length keeps the parameters
  identical when only the dimensions change;
- boxes and extrusions: the vertex position normalised by the primitive's local bounding box.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

_EPS = 1e-9


class Primitive(NamedTuple):
    """A closed mesh in its local frame.

    Attributes:
        vertices: (V, 3) float64 local coordinates (metres or any unit).
        faces: (F, 3) int64 vertex indices, counter-clockwise seen from outside.
        param: (V, 3) float64 parametric coordinate in [0, 1]^3 (see module docstring).
    """

    vertices: np.ndarray
    faces: np.ndarray
    param: np.ndarray


# --------------------------------------------------------------------------------------- helpers
def signed_volume(vertices: np.ndarray, faces: np.ndarray) -> float:
    """Signed volume enclosed by a closed mesh (positive when faces wind outward)."""
    tri = np.asarray(vertices, dtype=np.float64)[np.asarray(faces)]
    return float(np.einsum("ij,ij->i", tri[:, 0], np.cross(tri[:, 1], tri[:, 2])).sum() / 6.0)


def _finish(vertices: np.ndarray, faces: np.ndarray, param: np.ndarray) -> Primitive:
    """Make the winding outward (constructions are consistent, only the global sign is unknown)."""
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64)
    if signed_volume(v, f) < 0:
        f = f[:, ::-1].copy()
    return Primitive(v, f, np.clip(np.asarray(param, dtype=np.float64), 0.0, 1.0))


def _bbox_param(v: np.ndarray) -> np.ndarray:
    lo, hi = v.min(axis=0), v.max(axis=0)
    ext = np.where(hi - lo > _EPS, hi - lo, 1.0)
    return (v - lo) / ext


def _index_param(n: int) -> np.ndarray:
    """(n,) normalised point index 0, ..., 1 along a profile or path."""
    return np.linspace(0.0, 1.0, n) if n > 1 else np.zeros(1)


def ring_mesh(
    rings: np.ndarray,
    start: np.ndarray | None = None,
    end: np.ndarray | None = None,
    closed_path: bool = False,
    s: np.ndarray | None = None,
    s_start: float = 0.0,
    s_end: float = 1.0,
) -> Primitive:
    """Skin a sequence of closed rings into a closed surface.

    Args:
        rings: (R, K, 3) ring points; ring ``i`` point ``k`` sits at angle ``2 pi k / K``.
        start, end: (3,) fan centre closing the first / last ring (a flat cap or a pole).
            Both must be given unless ``closed_path`` (the last ring connects back to the first).
        s: (R,) path parameter of each ring in [0, 1] (default: uniform).
        s_start, s_end: path parameter of the ``start`` / ``end`` fan centres.
    """
    rings = np.asarray(rings, dtype=np.float64)
    r_count, k_count = rings.shape[:2]
    if not closed_path and (start is None or end is None):
        raise ValueError("an open ring sequence needs both a start and an end fan centre")
    if s is None:
        s = np.linspace(0.0, 1.0, r_count, endpoint=not closed_path)
    ang = 2.0 * np.pi * np.arange(k_count) / k_count
    ring_param = np.stack(
        [
            np.repeat(s, k_count),
            np.tile(0.5 + 0.5 * np.cos(ang), r_count),
            np.tile(0.5 + 0.5 * np.sin(ang), r_count),
        ],
        axis=1,
    )
    verts = [rings.reshape(-1, 3)]
    params = [ring_param]
    k = np.arange(k_count)
    k1 = (k + 1) % k_count
    faces = []
    n_bands = r_count if closed_path else r_count - 1
    for i in range(n_bands):
        j = (i + 1) % r_count
        a, b, c, d = i * k_count + k, i * k_count + k1, j * k_count + k1, j * k_count + k
        faces.append(np.stack([a, b, c], axis=1))
        faces.append(np.stack([a, c, d], axis=1))
    n = r_count * k_count
    if not closed_path:
        verts += [np.asarray(start, dtype=np.float64)[None], np.asarray(end, dtype=np.float64)[None]]
        params += [np.array([[s_start, 0.5, 0.5]]), np.array([[s_end, 0.5, 0.5]])]
        last = (r_count - 1) * k_count
        faces.append(np.stack([np.full(k_count, n), k1, k], axis=1))
        faces.append(np.stack([np.full(k_count, n + 1), last + k, last + k1], axis=1))
    return _finish(np.concatenate(verts), np.concatenate(faces), np.concatenate(params))


def _circle(k_count: int) -> tuple[np.ndarray, np.ndarray]:
    ang = 2.0 * np.pi * np.arange(k_count) / k_count
    return np.cos(ang), np.sin(ang)


# -------------------------------------------------------------------------------- revolutions
def lathe(profile: np.ndarray, segments: int = 24) -> Primitive:
    """Surface of revolution about +Y of a 2D profile.

    Args:
        profile: (P, 2) points ``(radius, y)`` from the bottom to the top. An end with radius ~0
            becomes a pole, an end with radius > 0 is closed by a flat cap. The profile may turn
            back on itself (a hollow bowl: outer wall up, rim, inner wall down to an inner pole).
        segments: points per ring.
    """
    prof = np.asarray(profile, dtype=np.float64)
    start_pole = prof[0, 0] < 1e-9
    end_pole = prof[-1, 0] < 1e-9
    s_all = _index_param(len(prof))
    body = slice(1 if start_pole else 0, len(prof) - 1 if end_pole else len(prof))
    ring_prof, ring_s = prof[body], s_all[body]
    c, sn = _circle(segments)
    rings = np.stack(
        [ring_prof[:, 0:1] * c[None], np.repeat(ring_prof[:, 1:2], segments, axis=1), ring_prof[:, 0:1] * sn[None]],
        axis=2,
    )
    start = np.array([0.0, prof[0, 1], 0.0])
    end = np.array([0.0, prof[-1, 1], 0.0])
    # a flat cap's centre shares the ring's arc parameter; its (0.5, 0.5) angle part keeps it distinct
    return ring_mesh(rings, start, end, s=ring_s, s_start=0.0, s_end=1.0)


def cylinder(radius: float, height: float, segments: int = 16, height_segments: int = 1) -> Primitive:
    """Capped cylinder along +Y, centred at the origin."""
    h = height / 2.0
    ys = np.linspace(-h, h, height_segments + 1)
    prof = np.concatenate([[[0.0, -h]], np.stack([np.full_like(ys, radius), ys], axis=1), [[0.0, h]]])
    return lathe(prof, segments)


def disc(radius: float, thickness: float, segments: int = 32, radial_rings: int = 4, bevel: float = 0.0) -> Primitive:
    """Flat cylinder along +Y centred at the origin whose caps carry ``radial_rings`` rings each
    (vertices inside the caps, unlike :func:`cylinder`); ``bevel`` rounds the rim by that distance."""
    h = thickness / 2.0
    bevel = min(bevel, 0.9 * h, 0.5 * radius)
    rs = np.linspace(0.0, radius - bevel, radial_rings + 1)[1:]
    bottom = [[r, -h] for r in rs]
    top = [[r, h] for r in rs[::-1]]
    rim = [[radius - bevel + bevel * np.sin(a), -h + bevel - bevel * np.cos(a)] for a in np.linspace(0, np.pi / 2, 3)]
    rim += [[radius - bevel + bevel * np.cos(a), h - bevel + bevel * np.sin(a)] for a in np.linspace(0, np.pi / 2, 3)]
    if bevel <= 0:
        rim = [[radius, -h], [radius, h]]
    prof = np.array([[0.0, -h]] + bottom[:-1] + rim + top[1:] + [[0.0, h]])
    return lathe(prof, segments)


def frustum(r_bottom: float, r_top: float, height: float, segments: int = 16, height_segments: int = 1) -> Primitive:
    """Capped truncated cone along +Y from y=0 (radius ``r_bottom``) to y=height (``r_top``)."""
    ys = np.linspace(0.0, height, height_segments + 1)
    rs = np.linspace(r_bottom, r_top, height_segments + 1)
    prof = np.concatenate([[[0.0, 0.0]], np.stack([rs, ys], axis=1), [[0.0, height]]])
    return lathe(prof, segments)


def cone(radius: float, height: float, segments: int = 16) -> Primitive:
    """Cone along +Y, base disc at y=0, apex at y=height."""
    return lathe(np.array([[0.0, 0.0], [radius, 0.0], [0.0, height]]), segments)


def ellipsoid(radii, segments: int = 16, rings: int = 8) -> Primitive:
    """Ellipsoid centred at the origin with semi-axes ``radii`` = (rx, ry, rz)."""
    phi = np.linspace(0.0, np.pi, rings + 1)
    prim = lathe(np.stack([np.sin(phi), -np.cos(phi)], axis=1), segments)
    return Primitive(prim.vertices * np.asarray(radii, dtype=np.float64), prim.faces, prim.param)


def sphere(radius: float, segments: int = 16, rings: int = 8) -> Primitive:
    return ellipsoid((radius, radius, radius), segments, rings)


def capsule(radius: float, length: float, segments: int = 16, cap_rings: int = 4) -> Primitive:
    """Cylinder of ``length`` (between the hemisphere centres) with hemispherical ends, along +Y."""
    phi = np.linspace(0.0, np.pi / 2, cap_rings + 1)
    h = length / 2.0
    bottom = np.stack([radius * np.sin(phi), -h - radius * np.cos(phi)], axis=1)
    top = np.stack([radius * np.cos(phi), h + radius * np.sin(phi)], axis=1)
    return lathe(np.concatenate([bottom, top]), segments)


def disc_wheel(radius: float, width: float, rim: float = 0.25, segments: int = 24) -> Primitive:
    """Solid wheel (tyre with rounded shoulders) along the +Y axis, centred at the origin.

    ``rim`` is the shoulder rounding as a fraction of the width.
    """
    w = width / 2.0
    rr = rim * width
    phi = np.linspace(0.0, np.pi / 2, 4)
    hub = 0.55 * radius
    prof = [[0.0, -w * 0.9], [hub, -w * 0.9], [hub * 1.05, -w]]
    prof += [[radius - rr + rr * np.sin(p), -w + rr - rr * np.cos(p)] for p in phi]
    prof += [[radius - rr + rr * np.cos(p), w - rr + rr * np.sin(p)] for p in phi]
    prof += [[hub * 1.05, w], [hub, w * 0.9], [0.0, w * 0.9]]
    return lathe(np.array(prof), segments)


# ------------------------------------------------------------------------------------- sweeps
def _transport_frames(path: np.ndarray, closed: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tangents and parallel-transported normals / binormals along a polyline."""
    if closed:
        t = np.roll(path, -1, axis=0) - np.roll(path, 1, axis=0)
    else:
        t = np.gradient(path, axis=0)
    t /= np.maximum(np.linalg.norm(t, axis=1, keepdims=True), _EPS)
    ref = np.array([0.0, 1.0, 0.0]) if abs(t[0, 1]) < 0.9 else np.array([1.0, 0.0, 0.0])
    n = np.cross(ref, t[0])
    n /= np.linalg.norm(n)
    normals = np.empty_like(path)
    normals[0] = n
    for i in range(1, len(path)):
        n = n - np.dot(n, t[i]) * t[i]
        norm = np.linalg.norm(n)
        n = n / norm if norm > _EPS else normals[i - 1]
        normals[i] = n
    return t, normals, np.cross(t, normals)


def sweep(path: np.ndarray, radius, segments: int = 8, closed: bool = False) -> Primitive:
    """A tube: circles of ``radius`` (scalar or (P,)) swept along a polyline ``path`` (P, 3).

    Open tubes get flat end caps (or poles where the radius is 0); ``closed`` joins the ends.
    """
    p = np.asarray(path, dtype=np.float64)
    r = np.broadcast_to(np.asarray(radius, dtype=np.float64), (len(p),)).copy()
    t, n, b = _transport_frames(p, closed)
    c, s = _circle(segments)
    if closed:
        s_par = np.arange(len(p)) / len(p)
        rings = p[:, None] + r[:, None, None] * (c[None, :, None] * n[:, None] + s[None, :, None] * b[:, None])
        return ring_mesh(rings, closed_path=True, s=s_par)
    s_par = _index_param(len(p))
    lo = 1 if r[0] < 1e-9 else 0
    hi = len(p) - 1 if r[-1] < 1e-9 else len(p)
    rings = p[lo:hi, None] + r[lo:hi, None, None] * (
        c[None, :, None] * n[lo:hi, None] + s[None, :, None] * b[lo:hi, None]
    )
    return ring_mesh(rings, p[0], p[-1], s=s_par[lo:hi])


def tube(p0, p1, radius: float, segments: int = 8, r1: float | None = None) -> Primitive:
    """A straight capped tube from ``p0`` to ``p1`` (optionally tapering to radius ``r1``)."""
    a, b = np.asarray(p0, dtype=np.float64), np.asarray(p1, dtype=np.float64)
    rad = [radius, radius if r1 is None else r1]
    return sweep(np.stack([a, b]), np.array(rad), segments)


def torus(
    major: float, minor: float, major_segments: int = 32, minor_segments: int = 8, arc: float = 2 * np.pi
) -> Primitive:
    """Torus (or an arc of one) around +Y in the XZ plane, centred at the origin."""
    full = arc >= 2 * np.pi - 1e-9
    n = major_segments if full else major_segments + 1
    ang = np.linspace(0.0, arc, n, endpoint=not full)
    path = np.stack([major * np.cos(ang), np.zeros_like(ang), major * np.sin(ang)], axis=1)
    return sweep(path, minor, minor_segments, closed=full)


def curve(control: np.ndarray, n: int = 16) -> np.ndarray:
    """(n, 3) points of a Catmull-Rom spline through the (C, 3) control points (ends included)."""
    c = np.asarray(control, dtype=np.float64)
    if len(c) == 2:
        return np.linspace(c[0], c[1], n)
    ext = np.concatenate([2 * c[:1] - c[1:2], c, 2 * c[-1:] - c[-2:-1]])
    seg = len(c) - 1
    u = np.linspace(0.0, seg, n)
    i = np.minimum(u.astype(int), seg - 1)
    t = (u - i)[:, None]
    p0, p1, p2, p3 = ext[i], ext[i + 1], ext[i + 2], ext[i + 3]
    return 0.5 * (
        2 * p1 + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2 + (-p0 + 3 * p1 - 3 * p2 + p3) * t**3
    )


# ------------------------------------------------------------------------------------- lofts
def loft(
    centers: np.ndarray,
    radii: np.ndarray,
    power=2.0,
    segments: int = 16,
    shape=None,
) -> Primitive:
    """Skin superellipse cross-sections placed along local +Z.

    Args:
        centers: (R, 3) ring centres; each ring lies in the plane z = centers[i, 2].
        radii: (R, 2) half-widths along x and y; a first / last ring with radii ~0 becomes a pole,
            otherwise the ends are closed with flat caps.
        power: superellipse exponent (2 = ellipse, larger = boxier), scalar or (R,).
        segments: points per ring.
        shape: optional ``f(cos, sin, i) -> (x, y)`` unit cross-section replacing the superellipse
            for ring ``i`` (``cos``/``sin`` are (K,) arrays of the ring angles).
    """
    ctr = np.asarray(centers, dtype=np.float64)
    rad = np.asarray(radii, dtype=np.float64)
    pw = np.broadcast_to(np.asarray(power, dtype=np.float64), (len(ctr),))
    c, s = _circle(segments)
    s_all = _index_param(len(ctr))
    rings = []
    for i in range(len(ctr)):
        if shape is not None:
            ux, uy = shape(c, s, i)
        else:
            e = 2.0 / pw[i]
            ux, uy = np.sign(c) * np.abs(c) ** e, np.sign(s) * np.abs(s) ** e
        rings.append(np.stack([ctr[i, 0] + rad[i, 0] * ux, ctr[i, 1] + rad[i, 1] * uy, np.full_like(c, ctr[i, 2])], 1))
    lo = 1 if rad[0].max() < 1e-9 else 0
    hi = len(ctr) - 1 if rad[-1].max() < 1e-9 else len(ctr)
    return ring_mesh(np.asarray(rings)[lo:hi], ctr[0], ctr[-1], s=s_all[lo:hi])


# --------------------------------------------------------------------------------- boxes, prisms
def box(size, segments=(1, 1, 1), radius: float = 0.0, round_segments: int = 2) -> Primitive:
    """Axis-aligned box centred at the origin, optionally with rounded edges and corners.

    Args:
        size: (3,) full side lengths.
        segments: (3,) grid segments per axis on the flat part of each face (int for all axes).
        radius: edge rounding radius (clamped to 45% of the smallest side).
        round_segments: grid segments across each half of a rounded edge (45 degrees).
    """
    size = np.asarray(size, dtype=np.float64)
    seg = np.broadcast_to(np.asarray(segments, dtype=int), (3,))
    h = size / 2.0
    r = min(float(radius), 0.45 * float(size.min()))
    inner = h - r
    axes = []
    for a in range(3):
        mid = np.linspace(-inner[a], inner[a], seg[a] + 1)
        if r > 0:
            edge = inner[a] + r * np.tan(np.pi / 4 * np.arange(1, round_segments + 1) / round_segments)
            axes.append(np.concatenate([-edge[::-1], mid, edge]))
        else:
            axes.append(mid)
    shape = tuple(len(x) for x in axes)
    index = -np.ones(shape, dtype=np.int64)
    ii, jj, kk = np.meshgrid(*[np.arange(n) for n in shape], indexing="ij")
    on_surface = (ii == 0) | (ii == shape[0] - 1) | (jj == 0) | (jj == shape[1] - 1) | (kk == 0) | (kk == shape[2] - 1)
    idx = np.argwhere(on_surface)
    index[tuple(idx.T)] = np.arange(len(idx))
    lattice = np.stack([axes[a][idx[:, a]] for a in range(3)], axis=1)
    faces = []
    for a in range(3):
        b, c = (a + 1) % 3, (a + 2) % 3
        for side in (0, shape[a] - 1):
            sl: list[slice | int] = [slice(None)] * 3
            sl[a] = side
            grid = index[tuple(sl)]  # 2D over the remaining axes in increasing order
            if b > c:  # remaining axes come out ordered (c, b); put b first
                grid = grid.T
            q00, q10 = grid[:-1, :-1].ravel(), grid[1:, :-1].ravel()
            q11, q01 = grid[1:, 1:].ravel(), grid[:-1, 1:].ravel()
            tri = np.concatenate([np.stack([q00, q10, q11], 1), np.stack([q00, q11, q01], 1)])
            faces.append(tri if side > 0 else tri[:, ::-1])
    verts = lattice.copy()
    if r > 0:
        q = np.clip(lattice, -inner, inner)
        d = lattice - q
        dn = np.linalg.norm(d, axis=1, keepdims=True)
        verts = np.where(dn > _EPS, q + r * d / np.maximum(dn, _EPS), lattice)
    return _finish(verts, np.concatenate(faces), _bbox_param(lattice))


def triangulate_polygon(poly: np.ndarray) -> np.ndarray:
    """(N - 2, 3) triangles of a simple polygon (N, 2) by ear clipping, counter-clockwise."""
    p = np.asarray(poly, dtype=np.float64)
    area = 0.5 * np.sum(p[:, 0] * np.roll(p[:, 1], -1) - np.roll(p[:, 0], -1) * p[:, 1])
    idx = list(range(len(p))) if area > 0 else list(range(len(p)))[::-1]
    tris = []

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    guard = 0
    while len(idx) > 3 and guard < 10 * len(p) ** 2:
        guard += 1
        n = len(idx)
        best = None
        for m in range(n):
            i0, i1, i2 = idx[m - 1], idx[m], idx[(m + 1) % n]
            a, b, c = p[i0], p[i1], p[i2]
            if cross(a, b, c) <= 1e-14:
                continue
            inside = False
            for j in idx:
                if j in (i0, i1, i2):
                    continue
                q = p[j]
                if cross(a, b, q) >= 0 and cross(b, c, q) >= 0 and cross(c, a, q) >= 0:
                    inside = True
                    break
            if not inside:
                best = m
                break
        if best is None:  # numerically degenerate remainder: fan it
            break
        m = best
        tris.append((idx[m - 1], idx[m], idx[(m + 1) % n]))
        idx.pop(m)
    for m in range(1, len(idx) - 1):
        tris.append((idx[0], idx[m], idx[m + 1]))
    return np.asarray(tris, dtype=np.int64)


def _offset_polygon(poly: np.ndarray, dist: float) -> np.ndarray:
    """Move each vertex of a CCW polygon ``dist`` inward along its corner bisector (mitred)."""
    e = np.roll(poly, -1, axis=0) - poly
    e /= np.maximum(np.linalg.norm(e, axis=1, keepdims=True), _EPS)
    n_out = np.stack([e[:, 1], -e[:, 0]], axis=1)  # right of the edge = outside for CCW
    n_prev = np.roll(n_out, 1, axis=0)
    bis = n_out + n_prev
    bis /= np.maximum(np.linalg.norm(bis, axis=1, keepdims=True), _EPS)
    cos_half = np.maximum(np.einsum("ij,ij->i", bis, n_out), 0.35)
    return poly - dist * bis / cos_half[:, None]


def extrude(polygon: np.ndarray, depth: float, bevel: float = 0.0, depth_segments: int = 1) -> Primitive:
    """Prism of a simple 2D polygon (N, 2) in the XY plane, extruded along Z and centred on z = 0.

    ``bevel`` > 0 chamfers the two cap outlines inward by that distance (and depth).
    """
    poly = np.asarray(polygon, dtype=np.float64)
    area = 0.5 * np.sum(poly[:, 0] * np.roll(poly[:, 1], -1) - np.roll(poly[:, 0], -1) * poly[:, 1])
    if area < 0:
        poly = poly[::-1]
    d = depth / 2.0
    bevel = min(bevel, 0.45 * depth)
    if bevel > 0:
        inset = _offset_polygon(poly, bevel)
        levels = [(-d, inset)] + [(z, poly) for z in np.linspace(-d + bevel, d - bevel, depth_segments + 1)]
        levels.append((d, inset))
    else:
        levels = [(z, poly) for z in np.linspace(-d, d, depth_segments + 1)]
    n = len(poly)
    verts = np.concatenate([np.column_stack([pts, np.full(n, z)]) for z, pts in levels])
    k = np.arange(n)
    k1 = (k + 1) % n
    faces = []
    for i in range(len(levels) - 1):
        a, b, c, dd = i * n + k, i * n + k1, (i + 1) * n + k1, (i + 1) * n + k
        faces += [np.stack([a, b, c], 1), np.stack([a, c, dd], 1)]
    tri = triangulate_polygon(levels[0][1])
    # the bands run k -> k+1 along the first outline, so the first cap runs against it
    faces.append(tri[:, ::-1])
    faces.append(tri + (len(levels) - 1) * n)
    return _finish(verts, np.concatenate(faces), _bbox_param(verts))
