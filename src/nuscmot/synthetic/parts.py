"""The parts objects are drawn from, in their box frame.

A part is a convex hexahedron (8 corners, Box.corners order: x forward, y left, z up,
box centre at the origin) with flat-shaded faces and decals (windows, lights, wheels,
stripes) drawn on its faces; or strokes (thin tubes: bicycle frames, wheel rims, poles);
or discs (filled planar polygons: motorcycle wheels).
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


def rect(u0, u1, v0, v1) -> np.ndarray:
    return np.array([[u0, v0], [u1, v0], [u1, v1], [u0, v1]], dtype=np.float64)


def _circle_uv(cu, cv, ru, rv, n=12) -> np.ndarray:
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([cu + ru * np.cos(a), cv + rv * np.sin(a)], axis=1)


def col(*bgr) -> np.ndarray:
    return np.array(bgr, dtype=np.float64)


def decal(part: Part, face: str, uv: np.ndarray, color, emissive: bool = False) -> None:
    f = FACE_INDEX[face]
    overhang = bool((uv < -1e-6).any() or (uv > 1 + 1e-6).any())   # reaches beyond its face (wheels)
    part.decals.append((f, face_points(part.corners, f, uv), np.asarray(color, dtype=np.float64), emissive,
                        overhang))


def side_wheels(part: Part, xs_world, radius: float, ground_z: float, color=(22, 22, 24), hub=(120, 120, 125)):
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
            decal(part, face, _circle_uv(u, vc, ru, rv), color)
            decal(part, face, _circle_uv(u, vc, ru * 0.5, rv * 0.5, 8), hub)

# colours the builders share (BGR)
GLASS = col(70, 55, 45)
DARK = col(28, 28, 30)
TYRE = col(22, 22, 24)
