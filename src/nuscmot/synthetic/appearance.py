"""What things look like: each object as a few convex parts (:mod:`.parts`) in its box frame.

Classes differ in silhouette, structure and palette: vehicles (:mod:`.vehicles`),
pedestrians with legs/torso/head (:mod:`.look`, animated), cones as orange frusta,
barriers as striped boards; plus the scenery (buildings, lamp posts, trees).
"""

from __future__ import annotations

import numpy as np

from nuscmot.synthetic.look import Look
from nuscmot.synthetic.parts import DARK, FACE_INDEX, HEX, STROKE, Part, col, decal, face_points, hexahedron, rect
from nuscmot.synthetic.vehicles import (
    bicycle_parts,
    bus_parts,
    car_parts,
    construction_parts,
    motorcycle_parts,
    trailer_parts,
    truck_parts,
)

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


def _pick(rng, palette) -> np.ndarray:
    return col(*palette[int(rng.integers(0, len(palette)))]) * rng.uniform(0.9, 1.08)


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
            "vehicle.car": car_parts,
            "vehicle.truck": truck_parts,
            "vehicle.bus.rigid": bus_parts,
            "vehicle.bus.bendy": bus_parts,
            "vehicle.trailer": trailer_parts,
            "vehicle.construction": construction_parts,
            "vehicle.motorcycle": motorcycle_parts,
            "vehicle.bicycle": bicycle_parts,
            "movable_object.trafficcone": _cone,
            "movable_object.barrier": _barrier,
        }[category]
        look.static_parts = builder(look, rng)
    return look


# --- street works ----------------------------------------------------------------------------
def _cone(look: Look, rng) -> list[Part]:
    w, l, h = look.size
    g = -h / 2
    base = Part(HEX, DARK * 1.2, hexahedron(-l / 2, l / 2, -w / 2, w / 2, g, g + 0.04))
    cone = Part(HEX, col(20, 110, 245), hexahedron(-l * 0.32, l * 0.32, -w * 0.32, w * 0.32, g + 0.04, h / 2,
                                                    top_x=(-0.03, 0.03), top_y=(-0.03, 0.03)))
    for face in ("front", "back", "left", "right"):
        decal(cone, face, rect(0.0, 1.0, 0.45, 0.62), col(235, 235, 235))
    return [base, cone]


def _barrier(look: Look, rng) -> list[Part]:
    w, l, h = look.size
    g = -h / 2
    if rng.random() < 0.35:   # concrete jersey barrier
        block = Part(HEX, col(175, 178, 180) * rng.uniform(0.85, 1.05),
                     hexahedron(-l / 2, l / 2, -w / 2, w / 2, g, h / 2, top_x=(-l * 0.18, l * 0.18)))
        return [block]
    board = Part(HEX, col(235, 235, 235), hexahedron(-0.06, 0.06, -w / 2, w / 2, g + h * 0.45, h / 2))
    red = col(30, 30, 210) if rng.random() < 0.6 else col(20, 120, 245)
    n = 6
    for face in ("front", "back"):
        for k in range(n):
            u0 = k / n
            decal(board, face, np.array([[u0, 0.0], [u0 + 0.5 / n, 0.0], [u0 + 1.0 / n, 1.0], [u0 + 0.5 / n, 1.0]]),
                   red)
    feet = [Part(HEX, DARK * 2, hexahedron(-l / 2, l / 2, y - 0.08, y + 0.08, g, g + h * 0.45))
            for y in (-w / 2 + 0.15, w / 2 - 0.15)]
    return feet + [board]


# --- scenery -----------------------------------------------------------------------------------
FACADES = [(95, 110, 150), (150, 160, 170), (80, 90, 120), (185, 185, 180), (120, 130, 140), (70, 85, 110)]


def building_parts(length: float, depth: float, height: float, style: int, night: bool, rng) -> list[Part]:
    """A building in its own frame (x along the street, centred, ground at z = 0) with a window grid."""
    color = col(*FACADES[style % len(FACADES)]) * rng.uniform(0.85, 1.1)
    part = Part(HEX, color, hexahedron(-length / 2, length / 2, -depth / 2, depth / 2, 0.0, height))
    floors = max(1, int((height - 1.0) / 3.2))
    col_w = rng.uniform(2.4, 4.0)
    win = col(60, 50, 40) if style % 2 else col(110, 95, 80)
    lit = col(95, 165, 210)
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
                uv.append(rect(u0, u0 + 0.6 / cols, v0, v1))
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
    pole = Part(STROKE, col(70, 72, 75), lines=[np.array([[0, 0, 0.0], [0, 0, height], [dx, dy, height + 0.2]])],
                thickness=0.16)
    head = Part(STROKE, col(200, 225, 235), lines=[np.array([[dx * 0.85, dy * 0.85, height + 0.12],
                                                             [dx * 1.15, dy * 1.15, height + 0.12]])],
                thickness=0.2, emissive=True)
    return [pole, head]


def tree_parts(height: float, rng) -> list[Part]:
    trunk = Part(STROKE, col(40, 60, 85), lines=[np.array([[0, 0, 0.0], [0, 0, height * 0.4 - 0.15]])],
                 thickness=0.28)
    r = rng.uniform(1.4, 2.2)
    green = col(50, 110, 60) * rng.uniform(0.8, 1.15)
    crown = Part(HEX, green, hexahedron(-r, r, -r, r, height * 0.4, height, top_x=(-r * 0.4, r * 0.4),
                                        top_y=(-r * 0.4, r * 0.4)))
    return [trunk, crown]
