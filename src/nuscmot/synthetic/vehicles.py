"""Vehicles as parts: cars have a sloped glass cabin, trucks a cab and a cargo box, buses
a window band, trailers ribs and rear axles, bicycles a thin frame with ring wheels,
motorcycles a dark bulky body with solid wheels and a helmeted rider; the digger has tracks,
a cab and a boom. Riders are drawn with their vehicle.
"""

from __future__ import annotations

import numpy as np

from nuscmot.synthetic.look import Look
from nuscmot.synthetic.parts import (
    DARK,
    DISC,
    GLASS,
    HEX,
    STROKE,
    TYRE,
    Part,
    col,
    decal,
    hexahedron,
    rect,
    side_wheels,
)


def _ring(cx, cz, r, y=0.0, n=16) -> np.ndarray:
    a = np.linspace(0, 2 * np.pi, n + 1)
    return np.stack([cx + r * np.cos(a), np.full(n + 1, y), cz + r * np.sin(a)], axis=1)


def _lights(part: Part, front: bool, w_frac: float = 0.16, v0: float = 0.55, v1: float = 0.8) -> None:
    face = "front" if front else "back"
    color = col(215, 240, 250) if front else col(30, 30, 200)
    for u0 in (0.06, 0.94 - w_frac):
        decal(part, face, rect(u0, u0 + w_frac, v0, v1), color, emissive=True)


def car_parts(look: Look, rng) -> list[Part]:
    w, l, h = look.size
    g = -h / 2
    body_top = g + h * rng.uniform(0.5, 0.58)
    body = Part(HEX, look.colors["body"], hexahedron(-l / 2, l / 2, -w / 2, w / 2, g + 0.14, body_top))
    _lights(body, True)
    _lights(body, False, v0=0.6, v1=0.85)
    decal(body, "front", rect(0.32, 0.68, 0.25, 0.6), DARK)                        # grille
    decal(body, "back", rect(0.38, 0.62, 0.25, 0.45), col(200, 200, 200))         # plate
    decal(body, "front", rect(0.0, 1.0, 0.0, 0.12), DARK * 1.5)                     # bumper
    decal(body, "back", rect(0.0, 1.0, 0.0, 0.14), DARK * 1.5)
    r = min(0.36, (body_top - g) * 0.75)
    side_wheels(body, (l / 2 - 0.85, -l / 2 + 0.8), r, g)
    front_x, rear_x = l / 2 - l * rng.uniform(0.26, 0.33), -l / 2 + l * rng.uniform(0.12, 0.2)
    slope_f, slope_r = (h - (body_top - g)) * 1.3, (h - (body_top - g)) * 0.6
    cabin = Part(HEX, look.colors["body"], hexahedron(rear_x, front_x, -w / 2 * 0.94, w / 2 * 0.94, body_top, h / 2,
                                                      top_x=(rear_x + slope_r, front_x - slope_f),
                                                      top_y=(-w / 2 * 0.8, w / 2 * 0.8)))
    decal(cabin, "front", rect(0.06, 0.94, 0.08, 0.9), GLASS)
    decal(cabin, "back", rect(0.1, 0.9, 0.12, 0.88), GLASS)
    for face in ("left", "right"):
        decal(cabin, face, rect(0.08, 0.47, 0.12, 0.86), GLASS)
        decal(cabin, face, rect(0.53, 0.92, 0.12, 0.86), GLASS)
    return [body, cabin]


def truck_parts(look: Look, rng) -> list[Part]:
    w, l, h = look.size
    g = -h / 2
    if look.subtype == "pickup":
        cab_len = l * 0.55
        hood = Part(HEX, look.colors["cab"], hexahedron(l / 2 - 1.3, l / 2, -w / 2, w / 2, g + 0.3, g + h * 0.55))
        _lights(hood, True)
        decal(hood, "front", rect(0.28, 0.72, 0.2, 0.7), DARK)
        cab = Part(HEX, look.colors["cab"], hexahedron(l / 2 - cab_len, l / 2 - 1.3, -w / 2, w / 2, g + 0.3, h / 2,
                                                       top_x=(l / 2 - cab_len, l / 2 - 1.6)))
        decal(cab, "front", rect(0.06, 0.94, 0.58, 0.92), GLASS)
        for face in ("left", "right"):
            decal(cab, face, rect(0.08, 0.9, 0.58, 0.9), GLASS)
        bed = Part(HEX, look.colors["cab"] * 0.92, hexahedron(-l / 2, l / 2 - cab_len, -w / 2, w / 2, g + 0.3,
                                                              g + h * 0.55))
        decal(bed, "top", rect(0.04, 0.96, 0.06, 0.94), DARK * 1.6)
        _lights(bed, False, 0.12, 0.6, 0.85)
        side_wheels(hood, (l / 2 - 0.9,), 0.4, g)
        side_wheels(bed, (-l / 2 + 1.0,), 0.4, g)
        return [hood, cab, bed]
    if look.subtype == "tractor":
        cab_len = min(2.6, l * 0.42)
        cab = Part(HEX, look.colors["cab"], hexahedron(l / 2 - cab_len, l / 2, -w / 2, w / 2, g + 0.55, h / 2))
        decal(cab, "front", rect(0.06, 0.94, 0.55, 0.85), GLASS)
        decal(cab, "front", rect(0.3, 0.7, 0.12, 0.42), col(170, 170, 175))
        _lights(cab, True, 0.14, 0.05, 0.14)
        for face in ("left", "right"):
            decal(cab, face, rect(0.55 if face == "left" else 0.05, 0.95 if face == "left" else 0.45, 0.55, 0.85),
                   GLASS)
        chassis = Part(HEX, DARK * 1.3, hexahedron(-l / 2, l / 2 - cab_len, -w / 2 * 0.9, w / 2 * 0.9, g + 0.45,
                                                   g + 1.25))
        side_wheels(chassis, (-l / 2 + 0.8, -l / 2 + 2.1), 0.52, g)
        side_wheels(cab, (l / 2 - 1.2,), 0.52, g)
        return [chassis, cab]
    cab_len = 2.1
    cab_h = min(h, rng.uniform(2.6, 3.0))
    cab = Part(HEX, look.colors["cab"], hexahedron(l / 2 - cab_len, l / 2, -w / 2, w / 2, g + 0.5, g + cab_h,
                                                   top_x=(l / 2 - cab_len, l / 2 - 0.25)))
    decal(cab, "front", rect(0.06, 0.94, 0.55, 0.9), GLASS)
    _lights(cab, True, 0.15, 0.08, 0.2)
    decal(cab, "front", rect(0.3, 0.7, 0.1, 0.35), DARK)
    for face in ("left", "right"):
        decal(cab, face, rect(0.5 if face == "left" else 0.1, 0.9 if face == "left" else 0.5, 0.55, 0.88), GLASS)
    cargo = Part(HEX, look.colors["cargo"], hexahedron(-l / 2, l / 2 - cab_len - 0.1, -w / 2, w / 2, g + 0.95,
                                                       h / 2))
    if rng.random() < 0.5:
        stripe = look.colors["cab"]
        for face in ("left", "right"):
            decal(cargo, face, rect(0.05, 0.95, 0.35, 0.5), stripe)
    decal(cargo, "back", rect(0.49, 0.51, 0.02, 0.98), DARK * 2)
    _lights(cargo, False, 0.1, 0.02, 0.1)
    chassis = Part(HEX, DARK * 1.3, hexahedron(-l / 2 + 0.3, l / 2 - cab_len, -w / 2 * 0.85, w / 2 * 0.85, g + 0.5,
                                               g + 0.95))
    side_wheels(chassis, (-l / 2 + 1.4,), 0.5, g)
    side_wheels(cab, (l / 2 - 1.1,), 0.5, g)
    return [chassis, cab, cargo]


def bus_parts(look: Look, rng) -> list[Part]:
    w, l, h = look.size
    g = -h / 2
    color = look.colors["bus"]
    body = Part(HEX, color, hexahedron(-l / 2, l / 2, -w / 2, w / 2, g + 0.3, h / 2))
    decal(body, "front", rect(0.04, 0.96, 0.38, 0.86), GLASS)
    decal(body, "front", rect(0.15, 0.85, 0.88, 0.96), col(40, 170, 250), emissive=True)   # route display
    _lights(body, True, 0.12, 0.1, 0.2)
    decal(body, "back", rect(0.1, 0.9, 0.5, 0.85), GLASS)
    _lights(body, False, 0.1, 0.12, 0.3)
    n_win = max(3, int(l / 1.6))
    for face in ("left", "right"):
        for k in range(n_win):
            u0 = 0.03 + k * 0.94 / n_win
            decal(body, face, rect(u0 + 0.006, u0 + 0.94 / n_win - 0.006, 0.5, 0.88), GLASS)
        decal(body, face, rect(0.03, 0.97, 0.1, 0.16), color * 0.6)   # skirt stripe
    # doors on the kerb side (right)
    for ud in (0.82, 0.45):
        decal(body, "right", rect(1 - ud - 0.06, 1 - ud, 0.04, 0.88), GLASS * 0.8)
    axles = [l / 2 - 2.6, -l / 2 + 3.0]
    if look.category == "vehicle.bus.bendy":
        for face in ("left", "right"):
            decal(body, face, rect(0.47, 0.53, 0.0, 1.0), DARK * 1.2)   # articulation bellows
        axles.append(0.5)
    side_wheels(body, axles, 0.5, g)
    return [body]


def trailer_parts(look: Look, rng) -> list[Part]:
    w, l, h = look.size
    g = -h / 2
    color = look.colors["trailer"]
    if look.subtype == "small":
        box = Part(HEX, color, hexahedron(-l / 2, l / 2 - 0.9, -w / 2, w / 2, g + 0.4, h / 2))
        decal(box, "top", rect(0.05, 0.95, 0.05, 0.95), DARK * 1.8)
        side_wheels(box, ((l / 2 - 0.9 - l / 2) / 2,), 0.3, g)
        _lights(box, False, 0.12, 0.7, 0.9)
        bar = Part(STROKE, DARK * 1.5, lines=[np.array([[l / 2 - 0.9, 0.0, g + 0.45], [l / 2, 0.0, g + 0.45]])],
                   thickness=0.08)
        return [box, bar]
    box = Part(HEX, color, hexahedron(-l / 2, l / 2, -w / 2, w / 2, g + 1.15, h / 2))
    n = int(l / 1.2)
    for face in ("left", "right"):
        for k in range(1, n):
            u = k / n
            decal(box, face, rect(u - 0.004, u + 0.004, 0.02, 0.98), color * 0.78)
        decal(box, face, rect(0.0, 1.0, 0.0, 0.05), color * 0.6)
    decal(box, "back", rect(0.49, 0.51, 0.02, 0.98), color * 0.6)
    _lights(box, False, 0.08, 0.02, 0.08)
    chassis = Part(HEX, DARK * 1.2, hexahedron(-l / 2 + 0.2, -l / 2 + 4.0, -w / 2 * 0.85, w / 2 * 0.85, g + 0.5,
                                               g + 1.15))
    side_wheels(chassis, (-l / 2 + 1.2, -l / 2 + 2.5), 0.5, g)
    legs = Part(HEX, DARK * 1.6, hexahedron(l / 2 - 3.0, l / 2 - 2.7, -w / 2 * 0.8, w / 2 * 0.8, g, g + 1.15))
    return [chassis, legs, box]


def construction_parts(look: Look, rng) -> list[Part]:
    w, l, h = look.size
    g = -h / 2
    yellow = col(20, 190, 245) * rng.uniform(0.85, 1.05)
    tracks = Part(HEX, DARK * 1.2, hexahedron(-l / 2 + 0.6, l / 2 - 1.6, -w / 2, w / 2, g, g + 0.9))
    for face in ("left", "right"):
        for k in range(8):
            decal(tracks, face, rect(k / 8 + 0.01, k / 8 + 0.05, 0.1, 0.9), DARK * 0.7)
    house = Part(HEX, yellow, hexahedron(-l / 2, l / 2 - 2.2, -w / 2 * 0.95, w / 2 * 0.95, g + 0.9, g + 2.0))
    decal(house, "back", rect(0.05, 0.95, 0.3, 0.5), DARK)
    cab = Part(HEX, yellow, hexahedron(l / 2 - 3.6, l / 2 - 2.2, 0.0, w / 2 * 0.95, g + 2.0, h / 2))
    for face in ("front", "left", "right", "back"):
        decal(cab, face, rect(0.1, 0.9, 0.15, 0.85), GLASS)
    boom = Part(HEX, yellow * 0.95, hexahedron(l / 2 - 2.2, l / 2, -0.5, -0.05, g + 1.2, g + 2.3,
                                               top_x=(l / 2 - 2.2, l / 2 - 0.3)))
    bucket = Part(HEX, DARK * 1.8, hexahedron(l / 2 - 0.6, l / 2, -0.9, 0.3, g, g + 0.7))
    return [tracks, house, cab, boom, bucket]


def motorcycle_parts(look: Look, rng) -> list[Part]:
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
    decal(body, "left", rect(0.35, 0.7, 0.1, 0.55), col(170, 170, 175))    # engine
    decal(body, "right", rect(0.3, 0.65, 0.1, 0.55), col(170, 170, 175))
    decal(body, "top", rect(0.15, 0.85, 0.5, 0.85), dark * 2.2)                # tank
    parts.append(body)
    fairing = Part(HEX, dark * 1.3, hexahedron(l / 2 - 0.7, l / 2 - 0.35, -0.25, 0.25, g + 0.55, g + 1.1,
                                               top_x=(l / 2 - 0.75, l / 2 - 0.55)))
    decal(fairing, "front", rect(0.3, 0.7, 0.35, 0.6), col(215, 240, 250), emissive=True)
    parts.append(fairing)
    parts.append(Part(STROKE, col(190, 190, 195), lines=[np.array([[-l / 2 + 0.35, -0.2, g + 0.35],
                                                                      [0.0, -0.2, g + 0.3]])], thickness=0.09))
    bar = w / 2 - 0.05
    parts.append(Part(STROKE, DARK, lines=[np.array([[l / 2 - 0.65, -bar, g + 1.05],
                                                       [l / 2 - 0.65, bar, g + 1.05]])], thickness=0.04))
    tail = Part(HEX, dark, hexahedron(-l / 2 + 0.3, -l / 2 + 0.7, -0.15, 0.15, g + 0.7, g + 0.9))
    decal(tail, "back", rect(0.2, 0.8, 0.2, 0.8), col(30, 30, 200), emissive=True)
    parts.append(tail)
    if look.with_rider:
        jacket = look.colors["shirt"] * 0.45 + 15
        seat_z = g + 0.88
        legs = Part(HEX, look.colors["trousers"] * 0.7, hexahedron(-0.45, 0.25, -0.3, 0.3, seat_z - 0.45, seat_z + 0.1))
        torso = Part(HEX, jacket, hexahedron(-0.5, -0.1, -0.24, 0.24, seat_z + 0.1, h / 2 - 0.28,
                                             top_x=(-0.3, 0.12), top_y=(-0.22, 0.22)))
        helmet = Part(HEX, look.colors["helmet"], hexahedron(-0.2, 0.12, -0.15, 0.15, h / 2 - 0.3, h / 2,
                                                             top_x=(-0.15, 0.08), top_y=(-0.11, 0.11)))
        decal(helmet, "front", rect(0.15, 0.85, 0.35, 0.7), DARK)               # visor
        parts += [legs, torso, helmet]
    return parts


def bicycle_parts(look: Look, rng) -> list[Part]:
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
        Part(STROKE, col(160, 160, 165), lines=[np.array([[xr, 0, g + r], [xr, 0, g + r]]) + [[-r * 0.9, 0, 0],
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
        decal(head_p, "top", rect(0.0, 1.0, 0.0, 1.0), helmet)
        decal(head_p, "back", rect(0.0, 1.0, 0.45, 1.0), helmet)
        for face in ("left", "right"):
            decal(head_p, face, rect(0.0, 1.0, 0.6, 1.0), helmet)
        parts += [legs, torso, arms, head_p]
    return parts
