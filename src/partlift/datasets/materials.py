"""Material model of the synthetic datasets (docs/MATERIALS.md).

Colours must not give the parts away. As on real objects, materials belong to *material groups*
that usually span several parts (a whole chair in one wood, a car body, its doors and trunks in
one paint), chosen per shape by category rules plus randomness:

1. The mesh is cut into *units*: the generator's regions (``extras["region"]``, instance tags such
   as ``#front_left`` dropped, so all legs are one unit) or, without them, the part labels.
2. Every unit gets a *role* from its name: ``rubber`` (wheels, tyres, cords), ``glass`` (lights,
   screens, lenses, bulbs, windows), ``fabric`` (sails, canopies, shades, cushions), ``trim``
   (handles, knobs, buttons, keys, touchpads, hinges, ...) or ``body`` (everything else).
3. Per shape, the body units share 1, 2 or 3 body materials (probabilities
   :attr:`MaterialConfig.body_split`), drawn from a kind distribution that depends on the category
   family (vehicles mostly paint, furniture mostly wood, fixtures mostly metal, ...). Trim shares
   a body material with probability :attr:`MaterialConfig.trim_shares_body`; rubber, glass and
   fabric roles get their own material with the configured probabilities, else a body material.
4. Each material is a :class:`Material`: a kind (paint, plastic, wood, metal, fabric, rubber, glass,
   ceramic, leather), colours and a procedural solid texture evaluated from the 3D surface position
   (:func:`material_albedo`), plus specular parameters used by :mod:`partlift.datasets.shading`.
   An object-wide weathering noise, independent of parts, modulates brightness.

Everything is deterministic in the seed.
"""

from __future__ import annotations

import colorsys
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from partlift.datasets.noise import fbm, value_noise
from partlift.geometry.partmesh import PartMesh
from partlift.validation import bounded, validate_config

MATERIAL_KINDS = ("paint", "plastic", "wood", "metal", "fabric", "rubber", "glass", "ceramic", "leather")
ROLES = ("body", "trim", "rubber", "glass", "fabric")

# Name keywords -> role (first match wins, checked in this order). Names are the generator's region
# names or part names, lower-cased.
ROLE_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("rubber", ("wheel", "tyre", "tire", "cord", "grip", "caster")),
    ("glass", ("light", "lamp_glass", "screen", "display", "lens", "bulb", "window", "windshield", "glass")),
    ("fabric", ("sail", "canopy", "shade", "cushion", "fabric", "cloth", "strap")),
    (
        "trim",
        (
            "handle", "knob", "button", "switch", "key", "touchpad", "hinge", "shaft", "cap", "saddle",
            "handlebar", "rearview", "mirror", "camera", "pedal", "screw", "slider", "trim", "footpedal",
        ),
    ),
)

# Category family -> body material kind distribution {kind: weight}.
BODY_KINDS: dict[str, dict[str, float]] = {
    "vehicle": {"paint": 0.75, "metal": 0.2, "plastic": 0.05},
    "aircraft": {"paint": 0.6, "metal": 0.4},
    "cycle": {"paint": 0.55, "metal": 0.35, "plastic": 0.1},
    "boat": {"paint": 0.55, "wood": 0.35, "plastic": 0.1},
    "tool": {"metal": 0.4, "wood": 0.3, "plastic": 0.3},
    "furniture": {"wood": 0.45, "plastic": 0.15, "metal": 0.2, "fabric": 0.12, "leather": 0.08},
    "household": {"plastic": 0.35, "metal": 0.3, "ceramic": 0.25, "paint": 0.1},
    "fixture": {"metal": 0.65, "plastic": 0.2, "ceramic": 0.15},
    "container": {"plastic": 0.35, "metal": 0.25, "ceramic": 0.2, "glass": 0.2},
    "generic": {"plastic": 0.4, "paint": 0.3, "metal": 0.2, "wood": 0.1},
}
TRIM_KINDS = {"plastic": 0.45, "metal": 0.35, "rubber": 0.1, "wood": 0.1}

# Super-category / category name -> family (checked on lower-cased names, substring match).
_FAMILY_HINTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("aircraft", ("airplane", "airliner", "warplane", "jet", "rocket", "aircraft", "fighter", "glider")),
    ("vehicle", ("car", "bus", "truck", "van", "jeep", "tractor", "moped", "minivan", "wagon")),
    ("cycle", ("bicycle", "bike", "tricycle", "cycle", "motorcycle", "scooter")),
    ("boat", ("boat", "ship", "yacht", "canoe", "sail", "watercraft", "liner")),
    ("tool", ("tool", "hammer", "hatchet", "axe", "knife", "pliers", "scissors", "wrench", "screwdriver", "umbrella")),
    ("furniture", ("furniture", "chair", "table", "bench", "storage", "cabinet", "sofa", "desk", "bed", "shelf")),
    ("fixture", ("fixture", "faucet", "lamp", "tap", "door", "window", "switch")),
    ("container", ("container", "bottle", "mug", "bucket", "jar", "can", "pot", "vase", "cup", "trashcan")),
    ("household", ("household", "kettle", "laptop", "display", "microwave", "toaster", "phone", "camera")),
)


@dataclass(frozen=True)
class MaterialConfig:
    """How materials are assigned to a shape.

    Attributes:
        body_split: probabilities that the body units share 1, 2, 3 body materials.
        trim_shares_body: probability that trim units (handles, knobs, ...) use a body material.
        trim_single: probability that all trim units share one trim material (else one each).
        rubber_prob: probability that rubber-role units (wheels, cords) get a rubber material.
        glass_prob: probability that glass-role units (lights, screens) get a glass material.
        fabric_prob: probability that fabric-role units (sails, canopies, shades) get fabric.
        texture_strength: multiplier on every texture's contrast (0 = flat colours).
        weathering: amplitude of the object-wide brightness noise (independent of parts).
    """

    body_split: tuple[float, float, float] = bounded((0.55, 0.3, 0.15), ge=0, le=1)
    trim_shares_body: float = bounded(0.4, ge=0, le=1)
    trim_single: float = bounded(0.7, ge=0, le=1)
    rubber_prob: float = bounded(0.85, ge=0, le=1)
    glass_prob: float = bounded(0.8, ge=0, le=1)
    fabric_prob: float = bounded(0.7, ge=0, le=1)
    texture_strength: float = bounded(1.0, ge=0)
    weathering: float = bounded(0.12, ge=0)

    def __post_init__(self) -> None:
        validate_config(self)


@dataclass(frozen=True)
class Material:
    """One procedural material.

    Attributes:
        kind: one of :data:`MATERIAL_KINDS`.
        base: (3,) RGB in [0, 1], main albedo.
        secondary: (3,) RGB in [0, 1], pattern colour (wood late-wood rings, weave shadow, ...).
        scale: pattern frequency in cycles per unit length (the object is in the unit box).
        strength: pattern contrast in [0, 1].
        noise: amplitude of fine multiplicative noise.
        specular: Blinn-Phong specular intensity.
        shininess: Blinn-Phong exponent.
        reflect: strength of the environment reflection (glossy paint, glass, chrome).
        axis: (3,) unit vector: wood grain / brushing / weave direction.
        seed: texture noise stream.
    """

    kind: str
    base: tuple[float, float, float]
    secondary: tuple[float, float, float]
    scale: float
    strength: float
    noise: float
    specular: float
    shininess: float
    reflect: float
    axis: tuple[float, float, float]
    seed: int

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


@dataclass
class MaterialAssignment:
    """Materials of one shape.

    Attributes:
        materials: the shape's materials.
        vertex_material: (V,) int64 material index per mesh vertex.
        unit_names: names of the material units (regions or parts).
        unit_roles: role of each unit.
        unit_material: (U,) int64 material index per unit.
        vertex_unit: (V,) int64 unit index per vertex.
        weathering: amplitude of the object-wide brightness noise.
        seed: seed of the weathering noise.
    """

    materials: list[Material]
    vertex_material: np.ndarray
    unit_names: list[str]
    unit_roles: list[str]
    unit_material: np.ndarray
    vertex_unit: np.ndarray
    weathering: float
    seed: int
    extras: dict = field(default_factory=dict)

    def summary(self) -> dict:
        """JSON-friendly description (materials and which units use them)."""
        return {
            "materials": [m.to_dict() for m in self.materials],
            "units": {n: int(m) for n, m in zip(self.unit_names, self.unit_material, strict=True)},
            "roles": dict(zip(self.unit_names, self.unit_roles, strict=True)),
        }


# ------------------------------------------------------------------------------------ rules
def unit_role(name: str) -> str:
    """Role of a material unit from its (region or part) name; default ``"body"``."""
    low = name.lower()
    for role, words in ROLE_KEYWORDS:
        if any(w in low for w in words):
            return role
    return "body"


def category_family(category: str) -> str:
    """Material family of a category (a key of :data:`BODY_KINDS`), from its super-category or name."""
    names = [category.lower()]  # the name first ("kettle" is household although its super-category is tool)
    try:  # the procedural registry knows the super-category; foreign categories fall back to the name
        from partlift.datasets.shape_source import _registry

        info = _registry().category_info(category)
        names.append(str(info.super_category).lower())
    except Exception:  # noqa: BLE001 - unknown category: use the name only
        pass
    for name in names:
        for family, words in _FAMILY_HINTS:
            if any(w == name or w in name for w in words):
                return family
    return "generic"


def material_units(mesh: PartMesh) -> tuple[np.ndarray, list[str]]:
    """Cut a mesh into material units.

    Returns:
        vertex_unit: (V,) int64 unit per vertex.
        names: unit names: region base names (``extras["region"]`` / ``extras["region_names"]``,
            ``#tag`` dropped) when the generator provides them, else part names (``"unlabelled"``
            for label -1).
    """
    region = mesh.extras.get("region") if mesh.extras else None
    region_names = mesh.extras.get("region_names") if mesh.extras else None
    if region is not None and region_names is not None and len(region) == len(mesh.vertices):
        bases = [str(r).split("#", 1)[0] for r in region_names]
        names = sorted(set(bases))
        idx = np.array([names.index(b) for b in bases], dtype=np.int64)
        return idx[np.asarray(region, dtype=np.int64)], names
    names = list(mesh.part_names) + ["unlabelled"]
    assert mesh.labels is not None  # set by PartMesh.__post_init__
    lab = np.where(mesh.labels < 0, len(mesh.part_names), mesh.labels)
    used = np.unique(lab)
    remap = np.full(len(names), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    return remap[lab], [names[i] for i in used]


# ------------------------------------------------------------------------------------ sampling
def _float3(values: Iterable[float]) -> tuple[float, float, float]:
    x, y, z = (float(v) for v in values)
    return x, y, z


def _hsv(h: float, s: float, v: float) -> tuple[float, float, float]:
    return _float3(colorsys.hsv_to_rgb(h % 1.0, float(np.clip(s, 0, 1)), float(np.clip(v, 0, 1))))


def _unit(v: np.ndarray) -> tuple[float, float, float]:
    v = np.asarray(v, dtype=np.float64)
    return _float3(v / max(np.linalg.norm(v), 1e-12))


def _pick(rng: np.random.Generator, weights: dict[str, float]) -> str:
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=np.float64)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def sample_material(kind: str, rng: np.random.Generator) -> Material:
    """Draw one material of ``kind`` (colours, texture and gloss parameters)."""
    if kind not in MATERIAL_KINDS:
        raise ValueError(f"unknown material kind {kind!r}; use one of {MATERIAL_KINDS}")
    axis = _unit(rng.normal(size=3))
    if rng.random() < 0.7:  # grain and brushing usually follow an object axis
        axis = _float3(np.eye(3)[rng.integers(3)])
    seed = int(rng.integers(2**31))
    h, s, v = rng.random(), rng.random(), rng.random()
    if kind == "paint":
        base = _hsv(h, 0.25 + 0.7 * s, 0.2 + 0.7 * v) if rng.random() < 0.75 else _hsv(h, 0.05 * s, 0.08 + 0.85 * v)
        sec = _float3(np.clip(np.array(base) * 1.15 + 0.05, 0, 1))
        return Material(kind, base, sec, 120.0, 0.15, 0.04, 0.6, 40.0 + 60.0 * rng.random(), 0.25, axis, seed)
    if kind == "plastic":
        base = _hsv(h, 0.8 * s, 0.08 + 0.87 * v)
        sec = _float3(np.clip(np.array(base) * 0.9, 0, 1))
        return Material(kind, base, sec, 30.0, 0.1, 0.05, 0.3, 15.0 + 25.0 * rng.random(), 0.05, axis, seed)
    if kind == "wood":
        base = _hsv(0.06 + 0.05 * h, 0.45 + 0.3 * s, 0.3 + 0.45 * v)
        sec = _float3(np.array(base) * (0.55 + 0.2 * rng.random()))
        return Material(kind, base, sec, 8.0 + 14.0 * rng.random(), 0.7, 0.08, 0.12, 12.0, 0.0, axis, seed)
    if kind == "metal":
        grey = 0.45 + 0.45 * v
        tint = np.array(_hsv(h, 0.08 * s, 1.0))
        base = _float3(np.clip(grey * tint, 0, 1))
        sec = _float3(np.array(base) * 0.8)
        return Material(kind, base, sec, 90.0, 0.35, 0.06, 0.9, 25.0 + 60.0 * rng.random(), 0.35, axis, seed)
    if kind == "fabric":
        base = _hsv(h, 0.15 + 0.6 * s, 0.2 + 0.65 * v)
        sec = _float3(np.array(base) * 0.65)
        return Material(kind, base, sec, 25.0 + 25.0 * rng.random(), 0.5, 0.12, 0.02, 4.0, 0.0, axis, seed)
    if kind == "rubber":
        base = _hsv(h, 0.1 * s, 0.04 + 0.14 * v)
        sec = _float3(np.array(base) * 1.4)
        return Material(kind, base, sec, 50.0, 0.3, 0.12, 0.12, 8.0, 0.0, axis, seed)
    if kind == "glass":
        tinted_dark = rng.random() < 0.7  # dark tinted glass, else a lit lamp / bright screen
        base = _hsv(0.45 + 0.2 * h, 0.3 * s, 0.05 + 0.25 * v) if tinted_dark else _hsv(0.12, 0.15, 0.75 + 0.2 * v)
        return Material(kind, base, base, 10.0, 0.0, 0.02, 1.0, 80.0 + 60.0 * rng.random(), 0.5, axis, seed)
    if kind == "ceramic":
        base = _hsv(h, 0.5 * s * s, 0.55 + 0.4 * v)
        sec = _float3(np.array(base) * 0.95)
        return Material(kind, base, sec, 20.0, 0.05, 0.02, 0.7, 60.0, 0.2, axis, seed)
    # leather
    base = _hsv(0.04 + 0.06 * h, 0.4 + 0.4 * s, 0.08 + 0.45 * v)
    sec = _float3(np.array(base) * 0.7)
    return Material(kind, base, sec, 70.0, 0.4, 0.1, 0.25, 12.0, 0.03, axis, seed)


def assign_materials(
    mesh: PartMesh, seed: int, config: MaterialConfig = MaterialConfig(), category: str | None = None
) -> MaterialAssignment:
    """Choose the materials of one shape (rules in the module docstring).

    Args:
        mesh: the shape; only its unit structure (regions or labels) and category are used.
        seed: RNG seed; the same seed gives the same assignment.
        config: assignment probabilities.
        category: overrides ``mesh.category`` for the family rule.

    Returns:
        a :class:`MaterialAssignment` with one material index per vertex.
    """
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(b"materials")])
    vertex_unit, names = material_units(mesh)
    roles = [unit_role(n) for n in names]
    family = category_family(category or mesh.category)
    body_kinds = BODY_KINDS[family]

    materials: list[Material] = []

    def new(kind: str) -> int:
        materials.append(sample_material(kind, rng))
        return len(materials) - 1

    p = np.asarray(config.body_split, dtype=np.float64)
    n_body = 1 + int(rng.choice(len(p), p=p / p.sum()))
    body = [new(_pick(rng, body_kinds)) for _ in range(n_body)]
    unit_material = np.zeros(len(names), dtype=np.int64)
    body_units = [i for i, r in enumerate(roles) if r == "body"]
    # The largest body unit always takes the first body material, the others pick freely, so one
    # material usually covers most of the object (and several parts).
    sizes = np.bincount(vertex_unit, minlength=len(names))
    if body_units:
        order = sorted(body_units, key=lambda i: -sizes[i])
        unit_material[order[0]] = body[0]
        for i in order[1:]:
            unit_material[i] = body[int(rng.integers(n_body))]

    def body_or(prob_own: float, kind_weights: dict[str, float], units: list[int], single: float = 1.0):
        if not units:
            return
        if rng.random() >= prob_own:
            shared = body[int(rng.integers(n_body))]
            for i in units:
                unit_material[i] = shared
            return
        if rng.random() < single:
            m = new(_pick(rng, kind_weights))
            for i in units:
                unit_material[i] = m
        else:
            for i in units:
                unit_material[i] = new(_pick(rng, kind_weights))

    by_role = {r: [i for i, x in enumerate(roles) if x == r] for r in ROLES}
    body_or(1.0 - config.trim_shares_body, TRIM_KINDS, by_role["trim"], config.trim_single)
    body_or(config.rubber_prob, {"rubber": 0.85, "plastic": 0.15}, by_role["rubber"])
    body_or(config.glass_prob, {"glass": 1.0}, by_role["glass"])
    body_or(config.fabric_prob, {"fabric": 0.8, "plastic": 0.1, "leather": 0.1}, by_role["fabric"])

    if config.texture_strength != 1.0:
        materials = [
            Material(**{**m.__dict__, "strength": m.strength * config.texture_strength,
                        "noise": m.noise * config.texture_strength})
            for m in materials
        ]
    return MaterialAssignment(
        materials=materials,
        vertex_material=unit_material[vertex_unit],
        unit_names=names,
        unit_roles=roles,
        unit_material=unit_material,
        vertex_unit=vertex_unit,
        weathering=float(config.weathering),
        seed=int(rng.integers(2**31)),
    )


# ------------------------------------------------------------------------------------ textures
def _perp_basis(axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(axis, dtype=np.float64)
    helper = np.array([1.0, 0.0, 0.0]) if abs(a[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    b1 = np.cross(a, helper)
    b1 /= np.linalg.norm(b1)
    return b1, np.cross(a, b1)


def material_albedo(material: Material, points: np.ndarray) -> np.ndarray:
    """Albedo of a material at 3D surface points (solid texture).

    Args:
        material: the material.
        points: (N, 3) positions in the object frame (unit box).

    Returns:
        (N, 3) float32 RGB in [0, 1].
    """
    m = material
    p = np.asarray(points, dtype=np.float64)
    base, sec = np.asarray(m.base), np.asarray(m.secondary)
    axis = np.asarray(m.axis, dtype=np.float64)
    b1, b2 = _perp_basis(axis)
    along, across1, across2 = p @ axis, p @ b1, p @ b2
    fine = fbm(p * 40.0, m.seed, octaves=2)
    mix = np.zeros(len(p))  # 0 = base, 1 = secondary
    if m.kind == "wood":
        # growth rings around an axis through an off-centre pith, warped by low-frequency noise
        warp = 0.35 * fbm(p * 3.0, m.seed + 1, octaves=3)
        r = np.hypot(across1 + 0.37, across2 - 0.21)
        rings = 0.5 + 0.5 * np.sin(2 * np.pi * (r * m.scale + warp * 2.0))
        fibres = value_noise(np.stack([along * 4.0, across1 * 160.0, across2 * 160.0], 1), m.seed + 2)
        mix = m.strength * rings**3 + 0.15 * m.strength * fibres
    elif m.kind == "metal":
        streaks = value_noise(np.stack([along * 3.0, across1 * m.scale, across2 * m.scale], 1), m.seed + 1)
        smudge = fbm(p * 4.0, m.seed + 2, octaves=3)
        mix = m.strength * (0.5 + 0.5 * streaks) * 0.6 + 0.25 * m.strength * smudge
    elif m.kind == "fabric":
        u, v = across1 * m.scale, along * m.scale
        weave = 0.5 + 0.5 * np.sin(2 * np.pi * u) * np.sin(2 * np.pi * v)
        fuzz = fbm(p * 90.0, m.seed + 1, octaves=2)
        mix = m.strength * (0.6 * weave + 0.4 * (0.5 + 0.5 * fuzz))
    elif m.kind == "leather":
        grain = value_noise(p * m.scale, m.seed + 1)
        mix = m.strength * grain**2
    elif m.kind in ("paint", "plastic", "rubber", "ceramic", "glass"):
        mottle = fbm(p * (m.scale / 8.0), m.seed + 1, octaves=3)
        mix = m.strength * (0.5 + 0.5 * mottle)
    mix = np.clip(mix, 0.0, 1.0)
    col = base[None, :] * (1.0 - mix[:, None]) + sec[None, :] * mix[:, None]
    col *= 1.0 + m.noise * fine[:, None]
    return np.clip(col, 0.0, 1.0).astype(np.float32)


def albedo(assignment: MaterialAssignment, points: np.ndarray, material_ids: np.ndarray) -> np.ndarray:
    """Albedo of surface points given their material indices, with the object-wide weathering.

    Args:
        assignment: the shape's materials.
        points: (N, 3) positions in the object frame.
        material_ids: (N,) int material index per point.

    Returns:
        (N, 3) float32 RGB in [0, 1].
    """
    p = np.asarray(points, dtype=np.float64)
    ids = np.asarray(material_ids, dtype=np.int64)
    out = np.zeros((len(p), 3), dtype=np.float32)
    for k in np.unique(ids):
        sel = ids == k
        out[sel] = material_albedo(assignment.materials[int(k)], p[sel])
    if assignment.weathering > 0 and len(p):
        w = fbm(p * 2.5, assignment.seed, octaves=3)
        out *= (1.0 + assignment.weathering * w)[:, None].astype(np.float32)
    return np.clip(out, 0.0, 1.0)


def gloss_arrays(assignment: MaterialAssignment, material_ids: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per-point (specular, shininess, reflect) float32 arrays for the shader."""
    ids = np.asarray(material_ids, dtype=np.int64)
    table = np.array([[m.specular, m.shininess, m.reflect] for m in assignment.materials], dtype=np.float32)
    g = table[ids]
    return g[:, 0], g[:, 1], g[:, 2]
