"""What things look like: each object as a few convex parts in its box frame.

A part is a convex hexahedron (8 corners, Box.corners order: x forward, y left, z up,
box centre at the origin) with flat-shaded faces and decals (windows, lights, wheels,
stripes) drawn on its faces; or strokes (thin tubes: bicycle frames, wheel rims, poles);
or discs (filled planar polygons: motorcycle wheels). Classes differ in silhouette,
structure and palette: cars have a sloped glass cabin, trucks a cab and a cargo box,
buses a window band, trailers ribs and rear axles, pedestrians legs/torso/head, bicycles
a thin frame with ring wheels, motorcycles a dark bulky body with solid wheels and a
helmeted rider, cones orange frusta, barriers striped boards.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

HEX, STROKE, DISC = 0, 1, 2

# Faces of a hexahedron as corner indices (Box.corners order: 0-3 front, 4-7 back;
# 0,1,4,5 top; 0,3,4,7 left (+y)). Each face: (indices in u/v order, name).
# u/v parametrisation: corners[0]=(0,0), [1]=(1,0), [2]=(1,1), [3]=(0,1); v is up on sides.
FACES = (
    ((2, 3, 0, 1), "front"),   # +x: u from left(+y)... see _face_uv
    ((7, 6, 5, 4), "back"),
    ((7, 3, 0, 4), "left"),    # +y: u from rear to front, v up
    ((2, 6, 5, 1), "right"),   # -y: u from front to rear, v up
    ((4, 5, 1, 0), "top"),
    ((6, 7, 3, 2), "bottom"),
)
FACE_INDEX = {name: i for i, (_, name) in enumerate(FACES)}


@dataclass
class Part:
    kind: int
    color: np.ndarray                       # BGR, 0..255 floats
    corners: np.ndarray | None = None       # HEX: (8, 3)
    # face, (k, 3) points, BGR, emissive, overhang (reaches beyond the face)
    decals: list[tuple[int, np.ndarray, np.ndarray, bool, bool]] = field(default_factory=list)
    lines: list[np.ndarray] = field(default_factory=list)   # STROKE/DISC: (k, 3) polylines / polygons
    thickness: float = 0.0                  # m (STROKE width, DISC rim)
    closed: bool = False
    emissive: bool = False

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        pts = self.corners if self.kind == HEX else np.vstack(self.lines)
        pad = self.thickness / 2
        return pts.min(0) - pad, pts.max(0) + pad


def hexahedron(x0, x1, y0, y1, z0, z1, top_x=None, top_y=None) -> np.ndarray:
    """8 corners of a box [x0,x1]x[y0,y1]x[z0,z1]; ``top_x``/``top_y`` narrow the top face (frustum)."""
    tx0, tx1 = top_x if top_x is not None else (x0, x1)
    ty0, ty1 = top_y if top_y is not None else (y0, y1)
    return np.array(
        [
            [tx1, ty1, z1], [tx1, ty0, z1], [x1, y0, z0], [x1, y1, z0],
            [tx0, ty1, z1], [tx0, ty0, z1], [x0, y0, z0], [x0, y1, z0],
        ],
        dtype=np.float64,
    )


def face_points(corners: np.ndarray, face: int, uv: np.ndarray) -> np.ndarray:
    """Points on a face from (u, v) in [0, 1]^2 (bilinear in the face's four corners)."""
    idx = FACES[face][0]
    p00, p10, p11, p01 = corners[idx[0]], corners[idx[1]], corners[idx[2]], corners[idx[3]]
    u, v = uv[..., 0:1], uv[..., 1:2]
    return (1 - u) * (1 - v) * p00 + u * (1 - v) * p10 + u * v * p11 + (1 - u) * v * p01


def _rect(u0, u1, v0, v1) -> np.ndarray:
    return np.array([[u0, v0], [u1, v0], [u1, v1], [u0, v1]], dtype=np.float64)


def _circle_uv(cu, cv, ru, rv, n=12) -> np.ndarray:
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([cu + ru * np.cos(a), cv + rv * np.sin(a)], axis=1)


def _col(*bgr) -> np.ndarray:
    return np.array(bgr, dtype=np.float64)


def _decal(part: Part, face: str, uv: np.ndarray, color, emissive: bool = False) -> None:
    f = FACE_INDEX[face]
    overhang = bool((uv < -1e-6).any() or (uv > 1 + 1e-6).any())   # reaches beyond its face (wheels)
    part.decals.append((f, face_points(part.corners, f, uv), np.asarray(color, dtype=np.float64), emissive,
                        overhang))


def _side_wheels(part: Part, xs_world, radius: float, ground_z: float, color=(22, 22, 24), hub=(120, 120, 125)):
    """Wheel discs on both side faces of ``part`` at world x positions (decals in the side planes)."""
    c = part.corners
    x0, x1 = c[:, 0].min(), c[:, 0].max()
    z0, z1 = c[:, 2].min(), c[:, 2].max()
    for face in ("left", "right"):
        for xw in xs_world:
            u = (xw - x0) / (x1 - x0)
            if face == "right":
                u = 1 - u
            vc = (ground_z + radius - z0) / (z1 - z0)
            ru, rv = radius / (x1 - x0), radius / (z1 - z0)
            _decal(part, face, _circle_uv(u, vc, ru, rv), color)
            _decal(part, face, _circle_uv(u, vc, ru * 0.5, rv * 0.5, 8), hub)


def _ring(cx, cz, r, y=0.0, n=16) -> np.ndarray:
    a = np.linspace(0, 2 * np.pi, n + 1)
    return np.stack([cx + r * np.cos(a), np.full(n + 1, y), cz + r * np.sin(a)], axis=1)


# --- palettes (BGR) -------------------------------------------------------------------
CAR_COLORS = [(230, 230, 232), (190, 190, 195), (40, 40, 42), (115, 115, 120), (60, 40, 150), (130, 70, 30),
              (40, 40, 170), (80, 110, 60), (70, 150, 200), (150, 150, 150), (30, 60, 110), (200, 200, 205)]
TRUCK_CAB = [(235, 235, 235), (40, 40, 180), (150, 80, 20), (20, 170, 230), (60, 120, 50), (200, 200, 200)]
CARGO = [(235, 235, 235), (210, 210, 215), (170, 175, 180), (40, 120, 200), (140, 60, 30)]
BUS = [(20, 160, 240), (40, 40, 190), (170, 90, 30), (70, 150, 60), (230, 230, 230), (30, 200, 230)]
TRAILER = [(225, 225, 228), (185, 190, 195), (50, 50, 140), (120, 70, 30), (70, 110, 60)]
SHIRTS = [(40, 40, 200), (200, 120, 40), (60, 160, 60), (30, 200, 230), (220, 220, 220), (40, 40, 40),
          (150, 60, 150), (90, 90, 200), (200, 200, 90), (20, 120, 240), (110, 60, 30)]
TROUSERS = [(60, 40, 30), (30, 30, 30), (120, 110, 90), (140, 120, 80), (70, 70, 75), (110, 80, 50)]
SKIN = [(150, 180, 230), (120, 150, 200), (90, 120, 170), (60, 80, 120), (170, 195, 235)]
HAIR = [(20, 20, 25), (30, 50, 80), (60, 100, 150), (140, 150, 160)]
GLASS = _col(70, 55, 45)
DARK = _col(28, 28, 30)
TYRE = _col(22, 22, 24)


def _pick(rng, palette) -> np.ndarray:
    return _col(*palette[int(rng.integers(0, len(palette)))]) * rng.uniform(0.9, 1.08)


@dataclass
class Look:
    """An object's fixed appearance; ``parts(phase)`` gives its parts (pedestrians animate)."""

    category: str
    size: tuple[float, float, float]
    subtype: str
    with_rider: bool
    colors: dict[str, np.ndarray]
    static_parts: list[Part] | None = None

    def parts(self, phase: float = 0.0) -> list[Part]:
        if self.static_parts is not None:
            return self.static_parts
        return _pedestrian(self, phase)


def make_look(category: str, size, subtype: str, with_rider: bool, rng: np.random.Generator) -> Look:
    colors = {
        "body": _pick(rng, CAR_COLORS),
        "cab": _pick(rng, TRUCK_CAB),
        "cargo": _pick(rng, CARGO),
        "bus": _pick(rng, BUS),
        "trailer": _pick(rng, TRAILER),
        "shirt": _pick(rng, SHIRTS),
        "trousers": _pick(rng, TROUSERS),
        "skin": _pick(rng, SKIN),
        "hair": _pick(rng, HAIR),
        "frame": _pick(rng, [(40, 40, 200), (200, 90, 30), (30, 30, 30), (40, 160, 40), (220, 220, 220),
                             (20, 180, 240)]),
        "helmet": _pick(rng, [(235, 235, 235), (30, 30, 200), (25, 25, 25), (20, 200, 240), (180, 80, 20)]),
        "moto": _pick(rng, [(25, 25, 28), (40, 40, 45), (30, 30, 120), (90, 40, 20), (60, 60, 64)]),
    }
    look = Look(category, tuple(size), subtype, with_rider, colors)
    if category not in ("human.pedestrian.adult", "human.pedestrian.child"):
        builder = {
            "vehicle.car": _car,
            "vehicle.truck": _truck,
            "vehicle.bus.rigid": _bus,
            "vehicle.bus.bendy": _bus,
            "vehicle.trailer": _trailer,
            "vehicle.construction": _construction,
            "vehicle.motorcycle": _motorcycle,
            "vehicle.bicycle": _bicycle,
            "movable_object.trafficcone": _cone,
            "movable_object.barrier": _barrier,
        }[category]
        look.static_parts = builder(look, rng)
    return look


# --- vehicles ----------------------------------------------------------------------------
def _lights(part: Part, front: bool, w_frac: float = 0.16, v0: float = 0.55, v1: float = 0.8) -> None:
    face = "front" if front else "back"
    color = _col(215, 240, 250) if front else _col(30, 30, 200)
    for u0 in (0.06, 0.94 - w_frac):
        _decal(part, face, _rect(u0, u0 + w_frac, v0, v1), color, emissive=True)


def _car(look: Look, rng) -> list[Part]:
    w, l, h = look.size
    g = -h / 2
    body_top = g + h * rng.uniform(0.5, 0.58)
    body = Part(HEX, look.colors["body"], hexahedron(-l / 2, l / 2, -w / 2, w / 2, g + 0.14, body_top))
    _lights(body, True)
    _lights(body, False, v0=0.6, v1=0.85)
    _decal(body, "front", _rect(0.32, 0.68, 0.25, 0.6), DARK)                        # grille
    _decal(body, "back", _rect(0.38, 0.62, 0.25, 0.45), _col(200, 200, 200))         # plate
    _decal(body, "front", _rect(0.0, 1.0, 0.0, 0.12), DARK * 1.5)                     # bumper
    _decal(body, "back", _rect(0.0, 1.0, 0.0, 0.14), DARK * 1.5)
    r = min(0.36, (body_top - g) * 0.75)
    _side_wheels(body, (l / 2 - 0.85, -l / 2 + 0.8), r, g)
    front_x, rear_x = l / 2 - l * rng.uniform(0.26, 0.33), -l / 2 + l * rng.uniform(0.12, 0.2)
    slope_f, slope_r = (h - (body_top - g)) * 1.3, (h - (body_top - g)) * 0.6
    cabin = Part(HEX, look.colors["body"], hexahedron(rear_x, front_x, -w / 2 * 0.94, w / 2 * 0.94, body_top, h / 2,
                                                      top_x=(rear_x + slope_r, front_x - slope_f),
                                                      top_y=(-w / 2 * 0.8, w / 2 * 0.8)))
    _decal(cabin, "front", _rect(0.06, 0.94, 0.08, 0.9), GLASS)
    _decal(cabin, "back", _rect(0.1, 0.9, 0.12, 0.88), GLASS)
    for face in ("left", "right"):
        _decal(cabin, face, _rect(0.08, 0.47, 0.12, 0.86), GLASS)
        _decal(cabin, face, _rect(0.53, 0.92, 0.12, 0.86), GLASS)
    return [body, cabin]


def _truck(look: Look, rng) -> list[Part]:
    w, l, h = look.size
    g = -h / 2
    if look.subtype == "pickup":
        cab_len = l * 0.55
        hood = Part(HEX, look.colors["cab"], hexahedron(l / 2 - 1.3, l / 2, -w / 2, w / 2, g + 0.3, g + h * 0.55))
        _lights(hood, True)
        _decal(hood, "front", _rect(0.28, 0.72, 0.2, 0.7), DARK)
        cab = Part(HEX, look.colors["cab"], hexahedron(l / 2 - cab_len, l / 2 - 1.3, -w / 2, w / 2, g + 0.3, h / 2,
                                                       top_x=(l / 2 - cab_len, l / 2 - 1.6)))
        _decal(cab, "front", _rect(0.06, 0.94, 0.58, 0.92), GLASS)
        for face in ("left", "right"):
            _decal(cab, face, _rect(0.08, 0.9, 0.58, 0.9), GLASS)
        bed = Part(HEX, look.colors["cab"] * 0.92, hexahedron(-l / 2, l / 2 - cab_len, -w / 2, w / 2, g + 0.3,
                                                              g + h * 0.55))
        _decal(bed, "top", _rect(0.04, 0.96, 0.06, 0.94), DARK * 1.6)
        _lights(bed, False, 0.12, 0.6, 0.85)
        _side_wheels(hood, (l / 2 - 0.9,), 0.4, g)
        _side_wheels(bed, (-l / 2 + 1.0,), 0.4, g)
        return [hood, cab, bed]
    if look.subtype == "tractor":
        cab_len = min(2.6, l * 0.42)
        cab = Part(HEX, look.colors["cab"], hexahedron(l / 2 - cab_len, l / 2, -w / 2, w / 2, g + 0.55, h / 2))
        _decal(cab, "front", _rect(0.06, 0.94, 0.55, 0.85), GLASS)
        _decal(cab, "front", _rect(0.3, 0.7, 0.12, 0.42), _col(170, 170, 175))
        _lights(cab, True, 0.14, 0.05, 0.14)
        for face in ("left", "right"):
            _decal(cab, face, _rect(0.55 if face == "left" else 0.05, 0.95 if face == "left" else 0.45, 0.55, 0.85),
                   GLASS)
        chassis = Part(HEX, DARK * 1.3, hexahedron(-l / 2, l / 2 - cab_len, -w / 2 * 0.9, w / 2 * 0.9, g + 0.45,
                                                   g + 1.25))
        _side_wheels(chassis, (-l / 2 + 0.8, -l / 2 + 2.1), 0.52, g)
        _side_wheels(cab, (l / 2 - 1.2,), 0.52, g)
        return [chassis, cab]
    cab_len = 2.1
    cab_h = min(h, rng.uniform(2.6, 3.0))
    cab = Part(HEX, look.colors["cab"], hexahedron(l / 2 - cab_len, l / 2, -w / 2, w / 2, g + 0.5, g + cab_h,
                                                   top_x=(l / 2 - cab_len, l / 2 - 0.25)))
    _decal(cab, "front", _rect(0.06, 0.94, 0.55, 0.9), GLASS)
    _lights(cab, True, 0.15, 0.08, 0.2)
    _decal(cab, "front", _rect(0.3, 0.7, 0.1, 0.35), DARK)
    for face in ("left", "right"):
        _decal(cab, face, _rect(0.5 if face == "left" else 0.1, 0.9 if face == "left" else 0.5, 0.55, 0.88), GLASS)
    cargo = Part(HEX, look.colors["cargo"], hexahedron(-l / 2, l / 2 - cab_len - 0.1, -w / 2, w / 2, g + 0.95,
                                                       h / 2))
    if rng.random() < 0.5:
        stripe = look.colors["cab"]
        for face in ("left", "right"):
            _decal(cargo, face, _rect(0.05, 0.95, 0.35, 0.5), stripe)
    _decal(cargo, "back", _rect(0.49, 0.51, 0.02, 0.98), DARK * 2)
    _lights(cargo, False, 0.1, 0.02, 0.1)
    chassis = Part(HEX, DARK * 1.3, hexahedron(-l / 2 + 0.3, l / 2 - cab_len, -w / 2 * 0.85, w / 2 * 0.85, g + 0.5,
                                               g + 0.95))
    _side_wheels(chassis, (-l / 2 + 1.4,), 0.5, g)
    _side_wheels(cab, (l / 2 - 1.1,), 0.5, g)
    return [chassis, cab, cargo]


def _bus(look: Look, rng) -> list[Part]:
    w, l, h = look.size
    g = -h / 2
    color = look.colors["bus"]
    body = Part(HEX, color, hexahedron(-l / 2, l / 2, -w / 2, w / 2, g + 0.3, h / 2))
    _decal(body, "front", _rect(0.04, 0.96, 0.38, 0.86), GLASS)
    _decal(body, "front", _rect(0.15, 0.85, 0.88, 0.96), _col(40, 170, 250), emissive=True)   # route display
    _lights(body, True, 0.12, 0.1, 0.2)
    _decal(body, "back", _rect(0.1, 0.9, 0.5, 0.85), GLASS)
    _lights(body, False, 0.1, 0.12, 0.3)
    n_win = max(3, int(l / 1.6))
    for face in ("left", "right"):
        for k in range(n_win):
            u0 = 0.03 + k * 0.94 / n_win
            _decal(body, face, _rect(u0 + 0.006, u0 + 0.94 / n_win - 0.006, 0.5, 0.88), GLASS)
        _decal(body, face, _rect(0.03, 0.97, 0.1, 0.16), color * 0.6)   # skirt stripe
    # doors on the kerb side (right)
    for ud in (0.82, 0.45):
        _decal(body, "right", _rect(1 - ud - 0.06, 1 - ud, 0.04, 0.88), GLASS * 0.8)
    axles = [l / 2 - 2.6, -l / 2 + 3.0]
    if look.category == "vehicle.bus.bendy":
        for face in ("left", "right"):
            _decal(body, face, _rect(0.47, 0.53, 0.0, 1.0), DARK * 1.2)   # articulation bellows
        axles.append(0.5)
    _side_wheels(body, axles, 0.5, g)
    return [body]


def _trailer(look: Look, rng) -> list[Part]:
    w, l, h = look.size
    g = -h / 2
    color = look.colors["trailer"]
    if look.subtype == "small":
        box = Part(HEX, color, hexahedron(-l / 2, l / 2 - 0.9, -w / 2, w / 2, g + 0.4, h / 2))
        _decal(box, "top", _rect(0.05, 0.95, 0.05, 0.95), DARK * 1.8)
        _side_wheels(box, ((l / 2 - 0.9 - l / 2) / 2,), 0.3, g)
        _lights(box, False, 0.12, 0.7, 0.9)
        bar = Part(STROKE, DARK * 1.5, lines=[np.array([[l / 2 - 0.9, 0.0, g + 0.45], [l / 2, 0.0, g + 0.45]])],
                   thickness=0.08)
        return [box, bar]
    box = Part(HEX, color, hexahedron(-l / 2, l / 2, -w / 2, w / 2, g + 1.15, h / 2))
    n = int(l / 1.2)
    for face in ("left", "right"):
        for k in range(1, n):
            u = k / n
            _decal(box, face, _rect(u - 0.004, u + 0.004, 0.02, 0.98), color * 0.78)
        _decal(box, face, _rect(0.0, 1.0, 0.0, 0.05), color * 0.6)
    _decal(box, "back", _rect(0.49, 0.51, 0.02, 0.98), color * 0.6)
    _lights(box, False, 0.08, 0.02, 0.08)
    chassis = Part(HEX, DARK * 1.2, hexahedron(-l / 2 + 0.2, -l / 2 + 4.0, -w / 2 * 0.85, w / 2 * 0.85, g + 0.5,
                                               g + 1.15))
    _side_wheels(chassis, (-l / 2 + 1.2, -l / 2 + 2.5), 0.5, g)
    legs = Part(HEX, DARK * 1.6, hexahedron(l / 2 - 3.0, l / 2 - 2.7, -w / 2 * 0.8, w / 2 * 0.8, g, g + 1.15))
    return [chassis, legs, box]


def _construction(look: Look, rng) -> list[Part]:
    w, l, h = look.size
    g = -h / 2
    yellow = _col(20, 190, 245) * rng.uniform(0.85, 1.05)
    tracks = Part(HEX, DARK * 1.2, hexahedron(-l / 2 + 0.6, l / 2 - 1.6, -w / 2, w / 2, g, g + 0.9))
    for face in ("left", "right"):
        for k in range(8):
            _decal(tracks, face, _rect(k / 8 + 0.01, k / 8 + 0.05, 0.1, 0.9), DARK * 0.7)
    house = Part(HEX, yellow, hexahedron(-l / 2, l / 2 - 2.2, -w / 2 * 0.95, w / 2 * 0.95, g + 0.9, g + 2.0))
    _decal(house, "back", _rect(0.05, 0.95, 0.3, 0.5), DARK)
    cab = Part(HEX, yellow, hexahedron(l / 2 - 3.6, l / 2 - 2.2, 0.0, w / 2 * 0.95, g + 2.0, h / 2))
    for face in ("front", "left", "right", "back"):
        _decal(cab, face, _rect(0.1, 0.9, 0.15, 0.85), GLASS)
    boom = Part(HEX, yellow * 0.95, hexahedron(l / 2 - 2.2, l / 2, -0.5, -0.05, g + 1.2, g + 2.3,
                                               top_x=(l / 2 - 2.2, l / 2 - 0.3)))
    bucket = Part(HEX, DARK * 1.8, hexahedron(l / 2 - 0.6, l / 2, -0.9, 0.3, g, g + 0.7))
    return [tracks, house, cab, boom, bucket]


def _motorcycle(look: Look, rng) -> list[Part]:
    w, l, h = look.size
    g = -h / 2
    r = min(0.32, l * 0.15)
    dark = look.colors["moto"]
    parts = []
    for xc in (l / 2 - r - 0.08, -l / 2 + r + 0.08):   # the 0.14 m tyre outline stays inside the box
        a = np.linspace(0, 2 * np.pi, 14, endpoint=False)
        disc = np.stack([xc + r * np.cos(a), np.zeros_like(a), g + r + 0.07 + r * np.sin(a)], axis=1)
        parts.append(Part(DISC, TYRE, lines=[disc], thickness=0.14, closed=True))
    body = Part(HEX, dark, hexahedron(-l / 2 + 0.45, l / 2 - 0.45, -0.22, 0.22, g + 0.3, g + 0.85,
                                      top_x=(-l / 2 + 0.55, l / 2 - 0.6)))
    _decal(body, "left", _rect(0.35, 0.7, 0.1, 0.55), _col(170, 170, 175))    # engine
    _decal(body, "right", _rect(0.3, 0.65, 0.1, 0.55), _col(170, 170, 175))
    _decal(body, "top", _rect(0.15, 0.85, 0.5, 0.85), dark * 2.2)                # tank
    parts.append(body)
    fairing = Part(HEX, dark * 1.3, hexahedron(l / 2 - 0.7, l / 2 - 0.35, -0.25, 0.25, g + 0.55, g + 1.1,
                                               top_x=(l / 2 - 0.75, l / 2 - 0.55)))
    _decal(fairing, "front", _rect(0.3, 0.7, 0.35, 0.6), _col(215, 240, 250), emissive=True)
    parts.append(fairing)
    parts.append(Part(STROKE, _col(190, 190, 195), lines=[np.array([[-l / 2 + 0.35, -0.2, g + 0.35],
                                                                      [0.0, -0.2, g + 0.3]])], thickness=0.09))
    bar = w / 2 - 0.05
    parts.append(Part(STROKE, DARK, lines=[np.array([[l / 2 - 0.65, -bar, g + 1.05],
                                                       [l / 2 - 0.65, bar, g + 1.05]])], thickness=0.04))
    tail = Part(HEX, dark, hexahedron(-l / 2 + 0.3, -l / 2 + 0.7, -0.15, 0.15, g + 0.7, g + 0.9))
    _decal(tail, "back", _rect(0.2, 0.8, 0.2, 0.8), _col(30, 30, 200), emissive=True)
    parts.append(tail)
    if look.with_rider:
        jacket = look.colors["shirt"] * 0.45 + 15
        seat_z = g + 0.88
        legs = Part(HEX, look.colors["trousers"] * 0.7, hexahedron(-0.45, 0.25, -0.3, 0.3, seat_z - 0.45, seat_z + 0.1))
        torso = Part(HEX, jacket, hexahedron(-0.5, -0.1, -0.24, 0.24, seat_z + 0.1, h / 2 - 0.28,
                                             top_x=(-0.3, 0.12), top_y=(-0.22, 0.22)))
        helmet = Part(HEX, look.colors["helmet"], hexahedron(-0.2, 0.12, -0.15, 0.15, h / 2 - 0.3, h / 2,
                                                             top_x=(-0.15, 0.08), top_y=(-0.11, 0.11)))
        _decal(helmet, "front", _rect(0.15, 0.85, 0.35, 0.7), DARK)               # visor
        parts += [legs, torso, helmet]
    return parts


def _bicycle(look: Look, rng) -> list[Part]:
    w, l, h = look.size
    g = -h / 2
    r = min(0.34, l * 0.2)
    frame = look.colors["frame"]
    xr, xf = -l / 2 + r + 0.02, l / 2 - r - 0.02
    seat = np.array([xr + 0.45, 0.0, g + 0.95])
    crank = np.array([xr + 0.55, 0.0, g + 0.3])
    head = np.array([xf - 0.2, 0.0, g + 0.92])
    rear, front = np.array([xr, 0.0, g + r]), np.array([xf, 0.0, g + r])
    parts = [
        Part(STROKE, TYRE, lines=[_ring(xr, g + r, r - 0.02), _ring(xf, g + r, r - 0.02)], thickness=0.045),
        Part(STROKE, frame, lines=[np.array([rear, seat, head, crank, rear]), np.array([head, front]),
                                   np.array([seat, crank])], thickness=0.045),
        Part(STROKE, _col(160, 160, 165), lines=[np.array([[xr, 0, g + r], [xr, 0, g + r]]) + [[-r * 0.9, 0, 0],
                                                                                                 [r * 0.9, 0, 0]],
                                                  np.array([[xf, 0, g + r], [xf, 0, g + r]]) + [[-r * 0.9, 0, 0],
                                                                                                  [r * 0.9, 0, 0]]],
             thickness=0.015),
        Part(STROKE, DARK, lines=[np.array([head + [0.05, -(w / 2 - 0.05), 0.1], head + [0.05, w / 2 - 0.05, 0.1]]),
                                  np.array([seat + [-0.12, 0, 0.03], seat + [0.1, 0, 0.03]])], thickness=0.05),
    ]
    if look.with_rider:
        shirt = look.colors["shirt"]
        hip = seat + [0.0, 0.0, 0.1]
        shoulder = np.array([head[0] - 0.25, 0.0, h / 2 - 0.32])
        legs = Part(STROKE, look.colors["trousers"], lines=[np.array([hip + [0, 0.12, 0], crank + [0.2, 0.14, 0.25],
                                                                      crank + [0.1, 0.14, 0]]),
                                                            np.array([hip + [0, -0.12, 0], crank + [-0.1, -0.14, 0.3],
                                                                      crank + [-0.15, -0.14, 0.05]])],
                    thickness=0.13)
        torso = Part(HEX, shirt, hexahedron(hip[0] - 0.12, shoulder[0] + 0.1, -0.2, 0.2, hip[2], shoulder[2] + 0.05,
                                            top_x=(shoulder[0] - 0.15, shoulder[0] + 0.12), top_y=(-0.2, 0.2)))
        reach = min(0.22, w / 2 - 0.06)
        arms = Part(STROKE, shirt * 0.9, lines=[np.array([shoulder + [0, 0.18, 0], head + [0.05, reach, 0.1]]),
                                               np.array([shoulder + [0, -0.18, 0], head + [0.05, -reach, 0.1]])],
                    thickness=0.08)
        helmet = look.colors["helmet"] if rng.random() < 0.6 else look.colors["hair"]
        head_p = Part(HEX, look.colors["skin"], hexahedron(shoulder[0] - 0.02, shoulder[0] + 0.2, -0.1, 0.1,
                                                           shoulder[2] + 0.06, h / 2))
        _decal(head_p, "top", _rect(0.0, 1.0, 0.0, 1.0), helmet)
        _decal(head_p, "back", _rect(0.0, 1.0, 0.45, 1.0), helmet)
        for face in ("left", "right"):
            _decal(head_p, face, _rect(0.0, 1.0, 0.6, 1.0), helmet)
        parts += [legs, torso, arms, head_p]
    return parts


# --- pedestrians (animated) ----------------------------------------------------------------
def _pedestrian(look: Look, phase: float) -> list[Part]:
    w, l, h = look.size
    g = -h / 2
    child = look.category == "human.pedestrian.child"
    hip = g + h * (0.45 if child else 0.48)
    shoulder = g + h * (0.8 if child else 0.82)
    head_top = h / 2
    leg_w, torso_w = w * 0.22, min(w * 0.62, w - 0.24)
    torso_l = l * 0.38
    swing = np.sin(phase) * min(0.28, l * 0.35) if phase else 0.0
    parts = []
    for side, sgn in ((1, 1), (-1, -1)):
        dx = swing * sgn
        yc = side * (0.02 + leg_w / 2)
        leg = Part(HEX, look.colors["trousers"], hexahedron(-0.08 + dx, 0.08 + dx, yc - leg_w / 2,
                                                            yc + leg_w / 2, g + 0.02, hip, top_x=(-0.09, 0.09)))
        _decal(leg, "front", _rect(0.0, 1.0, 0.0, 0.1), DARK)   # shoe
        parts.append(leg)
    torso = Part(HEX, look.colors["shirt"], hexahedron(-torso_l / 2, torso_l / 2, -torso_w / 2, torso_w / 2, hip + 0.005,
                                                       shoulder, top_y=(-torso_w / 2 * 0.95, torso_w / 2 * 0.95)))
    parts.append(torso)
    for side in (1, -1):
        dx = -swing * side * 0.6
        y0, y1 = (torso_w / 2 + 0.01, torso_w / 2 + 0.1) if side > 0 else (-torso_w / 2 - 0.1, -torso_w / 2 - 0.01)
        arm = Part(HEX, look.colors["shirt"] * 0.85, hexahedron(-0.05 + dx * 0.4, 0.05 + dx * 0.4, y0, y1,
                                                                hip - 0.08, shoulder - 0.02, top_x=(-0.05, 0.05)))
        _decal(arm, "front", _rect(0.0, 1.0, 0.0, 0.14), look.colors["skin"])
        parts.append(arm)
    hs = (head_top - shoulder) * 0.85
    head = Part(HEX, look.colors["skin"], hexahedron(-hs * 0.45, hs * 0.5, -hs * 0.4, hs * 0.4, head_top - hs, head_top))
    _decal(head, "top", _rect(0.0, 1.0, 0.0, 1.0), look.colors["hair"])
    _decal(head, "back", _rect(0.0, 1.0, 0.3, 1.0), look.colors["hair"])
    for face in ("left", "right"):
        _decal(head, face, _rect(0.0, 0.45, 0.45, 1.0) if face == "left" else _rect(0.55, 1.0, 0.45, 1.0),
               look.colors["hair"])
    parts.append(head)
    return parts


# --- street works ----------------------------------------------------------------------------
def _cone(look: Look, rng) -> list[Part]:
    w, l, h = look.size
    g = -h / 2
    base = Part(HEX, DARK * 1.2, hexahedron(-l / 2, l / 2, -w / 2, w / 2, g, g + 0.04))
    cone = Part(HEX, _col(20, 110, 245), hexahedron(-l * 0.32, l * 0.32, -w * 0.32, w * 0.32, g + 0.04, h / 2,
                                                    top_x=(-0.03, 0.03), top_y=(-0.03, 0.03)))
    for face in ("front", "back", "left", "right"):
        _decal(cone, face, _rect(0.0, 1.0, 0.45, 0.62), _col(235, 235, 235))
    return [base, cone]


def _barrier(look: Look, rng) -> list[Part]:
    w, l, h = look.size
    g = -h / 2
    if rng.random() < 0.35:   # concrete jersey barrier
        block = Part(HEX, _col(175, 178, 180) * rng.uniform(0.85, 1.05),
                     hexahedron(-l / 2, l / 2, -w / 2, w / 2, g, h / 2, top_x=(-l * 0.18, l * 0.18)))
        return [block]
    board = Part(HEX, _col(235, 235, 235), hexahedron(-0.06, 0.06, -w / 2, w / 2, g + h * 0.45, h / 2))
    red = _col(30, 30, 210) if rng.random() < 0.6 else _col(20, 120, 245)
    n = 6
    for face in ("front", "back"):
        for k in range(n):
            u0 = k / n
            _decal(board, face, np.array([[u0, 0.0], [u0 + 0.5 / n, 0.0], [u0 + 1.0 / n, 1.0], [u0 + 0.5 / n, 1.0]]),
                   red)
    feet = [Part(HEX, DARK * 2, hexahedron(-l / 2, l / 2, y - 0.08, y + 0.08, g, g + h * 0.45))
            for y in (-w / 2 + 0.15, w / 2 - 0.15)]
    return feet + [board]


# --- scenery -----------------------------------------------------------------------------------
FACADES = [(95, 110, 150), (150, 160, 170), (80, 90, 120), (185, 185, 180), (120, 130, 140), (70, 85, 110)]


def building_parts(length: float, depth: float, height: float, style: int, night: bool, rng) -> list[Part]:
    """A building in its own frame (x along the street, centred, ground at z = 0) with a window grid."""
    color = _col(*FACADES[style % len(FACADES)]) * rng.uniform(0.85, 1.1)
    part = Part(HEX, color, hexahedron(-length / 2, length / 2, -depth / 2, depth / 2, 0.0, height))
    floors = max(1, int((height - 1.0) / 3.2))
    col_w = rng.uniform(2.4, 4.0)
    win = _col(60, 50, 40) if style % 2 else _col(110, 95, 80)
    lit = _col(95, 165, 210)
    for face, span in (("left", length), ("right", length), ("front", depth), ("back", depth)):
        cols = max(1, int(span / col_w))
        uv = []
        for f in range(floors):
            v0 = (0.9 + f * 3.2) / height
            v1 = v0 + (1.6 if f else 2.4) / height
            if v1 > 0.97:
                break
            for c in range(cols):
                u0 = (c + 0.2) / cols
                uv.append(_rect(u0, u0 + 0.6 / cols, v0, v1))
        if uv:
            pts = face_points(part.corners, FACE_INDEX[face], np.stack(uv))
            lit_mask = rng.random(len(uv)) < (0.22 if night else 0.0)
            if (~lit_mask).any():
                part.decals.append((FACE_INDEX[face], pts[~lit_mask], win, False, False))
            if lit_mask.any():
                part.decals.append((FACE_INDEX[face], pts[lit_mask], lit, True, False))
    return [part]


def lamp_parts(height: float, arm_dir: float) -> list[Part]:
    """A lamp post at the origin (ground z = 0), its arm reaching ``arm_dir`` (radians) over the road."""
    dx, dy = np.cos(arm_dir) * 1.6, np.sin(arm_dir) * 1.6
    pole = Part(STROKE, _col(70, 72, 75), lines=[np.array([[0, 0, 0.0], [0, 0, height], [dx, dy, height + 0.2]])],
                thickness=0.16)
    head = Part(STROKE, _col(200, 225, 235), lines=[np.array([[dx * 0.85, dy * 0.85, height + 0.12],
                                                             [dx * 1.15, dy * 1.15, height + 0.12]])],
                thickness=0.2, emissive=True)
    return [pole, head]


def tree_parts(height: float, rng) -> list[Part]:
    trunk = Part(STROKE, _col(40, 60, 85), lines=[np.array([[0, 0, 0.0], [0, 0, height * 0.4 - 0.15]])],
                 thickness=0.28)
    r = rng.uniform(1.4, 2.2)
    green = _col(50, 110, 60) * rng.uniform(0.8, 1.15)
    crown = Part(HEX, green, hexahedron(-r, r, -r, r, height * 0.4, height, top_x=(-r * 0.4, r * 0.4),
                                        top_y=(-r * 0.4, r * 0.4)))
    return [trunk, crown]
