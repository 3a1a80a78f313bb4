"""Rasterise objects and scenery into a camera image and an object-id buffer.

Geometry goes exactly the devkit's way: box frame -> global (the annotation's translation
and rotation) -> ego (ego_pose) -> camera (calibrated_sensor) -> pixels (camera_intrinsic).
Parts are convex and ordered by a painter's algorithm made exact for disjoint convex
parts: each overlapping pair is ordered by a separating plane (the one on the camera's
side is in front), the rest by distance. Faces are clipped at the near plane, so boxes
partly behind the camera are drawn correctly. The id buffer receives the same polygons;
an object's visibility is the share of its own pixels (drawn alone) that survive in it.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import cv2
import numpy as np

from nuscmot.synthetic.background import Lighting
from nuscmot.synthetic.parts import DISC, FACES, HEX, Part

NEAR = 0.1               # m, near clipping plane (the devkit calls a corner "in front" above 0.1 m)
SHIFT = 4                # fixed-point bits for cv2 drawing
ONE = 1 << SHIFT
_LIMIT = float(1 << 26)  # fixed-point coordinates are clamped here (cv2 int overflow guard)
_FACE_IDX = np.array([f[0] for f in FACES])          # (6, 4)


@dataclass
class PartRec:
    """Where one part's data sits inside its :class:`Model`."""

    kind: int
    corner: int = 0                  # HEX: offset of its 8 corners in Model.pts
    face0: int = 0                   # HEX: first of its 6 rows in Model.normals / face_first
    face_row: int = 0                # HEX: colour row of its face 0 (6 consecutive rows)
    decals: list = field(default_factory=list)   # HEX: per face [(colour row, start, m, k, kind)]
    lines: list = field(default_factory=list)    # STROKE/DISC: [(start, length)]
    row: int = 0                     # STROKE/DISC: colour row
    closed: bool = False
    thickness: float = 0.0


@dataclass
class Model:
    """An object's parts packed into flat arrays, so one matrix product moves all of them."""

    pts: np.ndarray              # (N, 3) every corner, decal vertex and line point
    normals: np.ndarray          # (F, 3) outward normals of every HEX face
    face_first: np.ndarray       # (F,) index in pts of each face's first corner
    colors: np.ndarray           # (C, 3) base colours (faces, decals, strokes)
    emissive: np.ndarray         # (C,) bool
    light_row: np.ndarray        # (C,) face row lighting the colour (-1: a stroke, lit from above)
    parts: list[PartRec]
    part_corners: np.ndarray     # (P, 8, 3) part bounding boxes
    part_centre: np.ndarray      # (P, 3)
    part_half: np.ndarray        # (P, 3)
    centre: np.ndarray           # bounding sphere of everything (box frame)
    radius: float


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.stack([a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1], a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2],
                     a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]], axis=1)


def _normals(c: np.ndarray) -> np.ndarray:
    """Outward unit normals of the 6 faces of a convex hexahedron."""
    centre = c.mean(0)
    quads = c[_FACE_IDX]                                   # (6, 4, 3)
    n = _cross(quads[:, 1] - quads[:, 0], quads[:, 3] - quads[:, 0])
    alt = _cross(quads[:, 2] - quads[:, 1], quads[:, 0] - quads[:, 1])
    norm = np.sqrt((n * n).sum(1))
    small = norm < 1e-12
    n[small] = alt[small]
    n /= np.sqrt((n * n).sum(1))[:, None] + 1e-12
    flip = ((quads.mean(1) - centre) * n).sum(1) < 0
    n[flip] *= -1
    return n


def _box_corners(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])


def build_model(parts: list[Part]) -> Model:
    """Pack parts (HEX faces with decals grouped per face and colour; strokes; discs)."""
    pts: list[np.ndarray] = []
    normals: list[np.ndarray] = []
    face_first: list[int] = []
    colors: list = []
    emissive: list[bool] = []
    light_row: list[int] = []
    recs: list[PartRec] = []
    los, his = [], []
    n_pts = 0

    def add_color(c, emis, lrow) -> int:
        colors.append(np.asarray(c, dtype=np.float64))
        emissive.append(bool(emis))
        light_row.append(lrow)
        return len(colors) - 1

    for part in parts:
        lo, hi = part.bounds()
        los.append(lo)
        his.append(hi)
        if part.kind == HEX:
            rec = PartRec(HEX, corner=n_pts, face0=len(normals))
            pts.append(part.corners)
            n_pts += 8
            for f, nrm in enumerate(_normals(part.corners)):
                normals.append(nrm)
                face_first.append(rec.corner + int(_FACE_IDX[f, 0]))
            rec.face_row = len(colors)
            for f in range(6):
                add_color(part.color, part.emissive, rec.face0 + f)
            groups: dict[tuple, list[np.ndarray]] = {}
            for face, fpts, color, emis, overhang in part.decals:
                fpts = fpts if fpts.ndim == 3 else fpts[None]
                if not len(fpts):
                    continue
                key = (face, tuple(np.round(color, 3)), emis, overhang, fpts.shape[1])
                groups.setdefault(key, []).append(fpts)
            rec.decals = [[] for _ in range(6)]
            for (face, color, emis, overhang, k), chunks in groups.items():
                arr = np.concatenate(chunks)
                row = add_color(color, emis, rec.face0 + face)
                rec.decals[face].append((row, n_pts, len(arr), k, 2 if overhang else 1))
                pts.append(arr.reshape(-1, 3))
                n_pts += arr.shape[0] * k
        else:
            rec = PartRec(part.kind, closed=part.closed, thickness=part.thickness)
            rec.row = add_color(part.color, part.emissive, -1)
            for ln in part.lines:
                rec.lines.append((n_pts, len(ln)))
                pts.append(ln)
                n_pts += len(ln)
        recs.append(rec)
    lo, hi = np.array(los), np.array(his)
    glo, ghi = lo.min(0), hi.max(0)
    return Model(
        pts=np.vstack(pts).astype(np.float64),
        normals=np.array(normals).reshape(-1, 3),
        face_first=np.array(face_first, dtype=int),
        colors=np.array(colors),
        emissive=np.array(emissive, dtype=bool),
        light_row=np.array(light_row, dtype=int),
        parts=recs,
        part_corners=np.stack([_box_corners(a, b) for a, b in zip(lo, hi)]),
        part_centre=(lo + hi) / 2,
        part_half=(hi - lo) / 2,
        centre=(glo + ghi) / 2,
        radius=float(np.linalg.norm(ghi - glo) / 2),
    )


@dataclass
class Thing:
    """Something drawn: an annotated object (ident > 0) or an occluder (ident 0) at a pose."""

    ident: int
    model: Model
    pose: np.ndarray                     # 4x4 box frame -> global
    centre: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.centre = self.pose[:3, :3] @ self.model.centre + self.pose[:3, 3]


def clip_near(poly: np.ndarray) -> np.ndarray | None:
    """Clip a closed polygon (k, 3) in camera coordinates against z >= NEAR."""
    inside = poly[:, 2] >= NEAR
    if inside.all():
        return poly
    if not inside.any():
        return None
    out = []
    k = len(poly)
    for i in range(k):
        a, b = poly[i], poly[(i + 1) % k]
        if inside[i]:
            out.append(a)
        if inside[i] != inside[(i + 1) % k]:
            t = (NEAR - a[2]) / (b[2] - a[2])
            out.append(a + t * (b - a))
    return np.array(out) if len(out) >= 3 else None


class Projector:
    """Camera-frame points -> fixed-point pixel coordinates (``SHIFT`` fractional bits)."""

    def __init__(self, k: np.ndarray):
        self.k = k
        self.kt = (k * np.array([[ONE], [ONE], [1.0]])).T

    def __call__(self, pts: np.ndarray) -> np.ndarray:
        q = pts @ self.kt
        uv = q[..., :2] / np.maximum(q[..., 2:3], 1e-6)
        np.clip(uv, -_LIMIT, _LIMIT, out=uv)
        return np.rint(uv).astype(np.int32)


class Shader:
    """Flat shading with sun, ambient and sky light, distance haze, emissive lights."""

    def __init__(self, light: Lighting):
        self.light = light
        self.emit = 1.25 if light.night else 1.0
        self.up = float(self.face_light(np.array([[0.0, 0.0, 0.5]]))[0])

    def face_light(self, normals_g: np.ndarray) -> np.ndarray:
        lt = self.light
        return (lt.ambient + lt.diffuse * np.maximum(normals_g @ lt.sun, 0.0)
                + 0.12 * np.maximum(normals_g[:, 2], 0.0)) * lt.exposure

    def blend(self, base: np.ndarray, factor: np.ndarray, fog: np.ndarray) -> np.ndarray:
        """Shaded colours of base colours (n, 3) lit by ``factor`` (n,) behind haze ``fog`` (n,)."""
        c = base * (factor * fog)[:, None] + self.light.haze * (self.light.exposure * (1.0 - fog))[:, None]
        return np.clip(c, 0.0, 255.0)


# primitives: ("fill", [int arrays], colour, kind) with kind 0 face, 1 decal, 2 decal reaching past its face
#             ("line", [int arrays], colour, thickness_px, closed)
Prim = tuple


@dataclass
class Posed:
    """A thing seen from one camera: its points in camera coordinates and pixels."""

    thing: Thing
    pc: np.ndarray          # (N, 3) camera frame
    uv: np.ndarray          # (N, 2) fixed-point pixels (garbage where z < NEAR)
    face_visible: np.ndarray
    colors: list


def part_prims(ps: Posed, rec: PartRec, proj: Projector, fx: float) -> list[Prim]:
    """Drawing primitives of one part of a posed thing."""
    prims: list[Prim] = []
    pc, uv = ps.pc, ps.uv
    if rec.kind == HEX:
        c0 = rec.corner
        front = pc[c0:c0 + 8, 2].min() >= NEAR
        for f in range(6):
            if not ps.face_visible[rec.face0 + f]:
                continue
            idx = c0 + _FACE_IDX[f]
            if front:
                poly = uv[idx]
            else:
                q = clip_near(pc[idx])
                if q is None:
                    continue
                poly = proj(q)
            prims.append(("fill", [poly], ps.colors[rec.face_row + f], 0))
            for row, start, m, k, kind in rec.decals[f]:
                end = start + m * k
                if pc[start:end, 2].min() >= NEAR:
                    polys = list(uv[start:end].reshape(m, k, 2))
                else:
                    polys = [proj(q) for q in (clip_near(d) for d in pc[start:end].reshape(m, k, 3)) if q is not None]
                if polys:
                    prims.append(("fill", polys, ps.colors[row], kind))
        return prims
    colour = ps.colors[rec.row]
    segs = []
    for start, n in rec.lines:
        ln = pc[start:start + n]
        zmean = max(float(np.clip(ln[:, 2], NEAR, None).mean()), NEAR)
        width = max(1, int(round(fx * rec.thickness / zmean)))
        if rec.kind == DISC:
            if ln[:, 2].min() >= NEAR:
                q = uv[start:start + n]
            else:
                poly = clip_near(ln)
                if poly is None:
                    continue
                q = proj(poly)
            prims.append(("fill", [q], colour, 0))
            prims.append(("line", [q], colour, width, True))
            continue
        if ln[:, 2].min() >= NEAR:
            q = uv[start:start + n]
            segs.append((np.vstack([q, q[:1]]) if rec.closed else q, width))
            continue
        pts = np.vstack([ln, ln[:1]]) if rec.closed else ln
        a, b = pts[:-1], pts[1:]
        ina, inb = a[:, 2] >= NEAR, b[:, 2] >= NEAR
        keep = ina | inb
        a, b, ina, inb = a[keep], b[keep], ina[keep], inb[keep]
        dz = np.where(ina == inb, 1.0, b[:, 2] - a[:, 2])
        cut = a + ((NEAR - a[:, 2]) / dz)[:, None] * (b - a)
        a = np.where(ina[:, None], a, cut)
        b = np.where(inb[:, None], b, cut)
        segs += [(proj(np.stack([s, e])), width) for s, e in zip(a, b)]
    for width in sorted({w for _, w in segs}):
        prims.append(("line", [q for q, w in segs if w == width], colour, width, False))
    return prims


def _draw(img: np.ndarray, prims: list[Prim], value, line_type: int, offset: np.ndarray | None = None) -> None:
    """Draw primitives in their colours (``value`` None) or all in ``value`` (id buffer, masks).

    ``line_type`` -1: anti-aliased, except decals (scenery windows), which need no smoothing.

    Several polygons of one primitive never overlap (windows, wheels, stripes), so the
    colour image takes them in one ``fillPoly`` call; id buffers and masks draw them one
    by one, which is exact whatever the overlap.
    """
    for prim in prims:
        pts = prim[1] if offset is None else [q - offset for q in prim[1]]
        color = prim[2] if value is None else value
        lt = line_type if line_type >= 0 else (cv2.LINE_8 if prim[0] == "fill" and prim[3] else cv2.LINE_AA)
        if prim[0] == "fill":
            if len(pts) == 1 or value is not None:
                for q in pts:
                    cv2.fillConvexPoly(img, q, color, lt, SHIFT)
            else:
                cv2.fillPoly(img, pts, color, lt, SHIFT)
        else:
            cv2.polylines(img, pts, prim[4], color, prim[3], lt, SHIFT)


def _prims_rect(prims: list[Prim], w: int, h: int) -> tuple[int, int, int, int] | None:
    pts = np.concatenate([q.reshape(-1, 2) for prim in prims for q in prim[1]])
    pad = max([prim[3] for prim in prims if prim[0] == "line"], default=0) // 2 + 2
    x0, y0 = (pts.min(0) >> SHIFT) - pad
    x1, y1 = (pts.max(0) >> SHIFT) + pad + 1
    x0, y0, x1, y1 = max(int(x0), 0), max(int(y0), 0), min(int(x1), w), min(int(y1), h)
    if x0 >= x1 or y0 >= y1:
        return None
    return x0, y0, x1, y1


def paint_order(centre: np.ndarray, yaw: np.ndarray, half: np.ndarray, depth: np.ndarray, rect: np.ndarray,
                cam: np.ndarray) -> list[int]:
    """Back-to-front order of parts (global OBBs: centre (n, 3), yaw, half extents (n, 3)).

    Each pair overlapping on screen is ordered by a separating plane (the part on the
    camera's side of it is in front); the rest, and any cycle, by distance.
    """
    n = len(depth)
    if n <= 1:
        return list(range(n))
    ia, ib = np.triu_indices(n, 1)
    ov = (rect[ia, 0] < rect[ib, 2]) & (rect[ib, 0] < rect[ia, 2]) & (rect[ia, 1] < rect[ib, 3]) & (
        rect[ib, 1] < rect[ia, 3])
    ia, ib = ia[ov], ib[ov]
    succ: list[list[int]] = [[] for _ in range(n)]
    indeg = [0] * n
    if len(ia):
        c = centre[:, :2]
        hl, hw = half[:, 0], half[:, 1]
        z0, z1 = centre[:, 2] - half[:, 2], centre[:, 2] + half[:, 2]
        ex = np.stack([np.cos(yaw), np.sin(yaw)], 1)
        ey = np.stack([-np.sin(yaw), np.cos(yaw)], 1)
        axes = np.stack([ex[ia], ey[ia], ex[ib], ey[ib]], 1)          # (Q, 4, 2)

        def interval(idx):
            mid = np.einsum("qd,qkd->qk", c[idx], axes)
            rad = hl[idx][:, None] * np.abs(np.einsum("qd,qkd->qk", ex[idx], axes)) + hw[idx][:, None] * np.abs(
                np.einsum("qd,qkd->qk", ey[idx], axes))
            return mid - rad, mid + rad

        alo, ahi = interval(ia)
        blo, bhi = interval(ib)
        cp = np.einsum("d,qkd->qk", cam[:2], axes)
        # z as a fifth axis
        alo = np.concatenate([alo, z0[ia][:, None]], 1)
        ahi = np.concatenate([ahi, z1[ia][:, None]], 1)
        blo = np.concatenate([blo, z0[ib][:, None]], 1)
        bhi = np.concatenate([bhi, z1[ib][:, None]], 1)
        cp = np.concatenate([cp, np.full((len(ia), 1), cam[2])], 1)
        a_below = ahi <= blo
        b_below = bhi <= alo
        sep = a_below | b_below
        has = sep.any(1)
        k = np.argmax(sep, 1)
        q = np.arange(len(ia))
        a_front = np.where(a_below[q, k], cp[q, k] < (ahi[q, k] + blo[q, k]) / 2,
                           cp[q, k] > (bhi[q, k] + alo[q, k]) / 2)
        for a, b, f in zip(ia[has].tolist(), ib[has].tolist(), a_front[has].tolist()):
            back, front = (b, a) if f else (a, b)
            succ[back].append(front)
            indeg[front] += 1
    dl = (-depth).tolist()
    heap = [(dl[i], i) for i in range(n) if indeg[i] == 0]
    heapq.heapify(heap)
    order = []
    while heap:
        _, i = heapq.heappop(heap)
        order.append(i)
        for j in succ[i]:
            indeg[j] -= 1
            if indeg[j] == 0:
                heapq.heappush(heap, (dl[j], j))
    if len(order) < n:   # a cycle: fall back to distance for what is left
        done = set(order)
        order += sorted((i for i in range(n) if i not in done), key=lambda i: dl[i])
    return order


@dataclass
class Frame:
    """One rendered camera image."""

    image: np.ndarray          # uint8 BGR
    ids: np.ndarray            # int32 object ids (0 = background / scenery)
    alone: dict[int, int]      # object id -> pixels it covers drawn alone (inside the image)
    visible: dict[int, int]    # object id -> pixels of it in the final image


def _pose_all(things: list[Thing], global_to_cam: np.ndarray, cam_pos: np.ndarray, proj: Projector,
              shader: Shader, k: np.ndarray, w: int, h: int):
    """Transform, cull and shade every part of ``things`` in one batch.

    Returns the posed things and, per visible part, (posed index, part index) plus its
    global OBB, distance and screen rectangle for the painter's ordering.
    """
    n = len(things)
    poses = np.array([th.pose for th in things])                       # (T, 4, 4)
    m = global_to_cam @ poses                                           # box frame -> camera
    rot, trans = m[:, :3, :3], m[:, :3, 3]
    models = [th.model for th in things]
    n_parts = np.array([len(md.parts) for md in models])
    owner = np.repeat(np.arange(n), n_parts)
    corners = np.concatenate([md.part_corners for md in models])       # (P, 8, 3)
    bc = np.einsum("pij,pkj->pki", rot[owner], corners) + trans[owner][:, None, :]
    vis = _maybe_visible(bc, k, w, h)
    shown = np.zeros(n, dtype=bool)
    shown[owner[vis]] = True
    keep = np.flatnonzero(shown)
    if not len(keep):
        return [], None
    # all points, normals and colour rows of the things that show
    n_pts = np.array([len(models[i].pts) for i in keep])
    n_fac = np.array([len(models[i].normals) for i in keep])
    n_col = np.array([len(models[i].colors) for i in keep])
    p_own = np.repeat(np.arange(len(keep)), n_pts)
    f_own = np.repeat(np.arange(len(keep)), n_fac)
    c_own = np.repeat(np.arange(len(keep)), n_col)
    pts = np.concatenate([models[i].pts for i in keep])
    pc = np.einsum("pij,pj->pi", rot[keep][p_own], pts) + trans[keep][p_own]
    uv = proj(pc)
    p_off = np.concatenate([[0], np.cumsum(n_pts)])
    f_off = np.concatenate([[0], np.cumsum(n_fac)])
    c_off = np.concatenate([[0], np.cumsum(n_col)])
    rot_g = poses[keep][:, :3, :3]
    normals = np.concatenate([models[i].normals for i in keep]) if n_fac.sum() else np.zeros((0, 3))
    first = np.concatenate([models[i].face_first + p_off[j] for j, i in enumerate(keep)]).astype(int)
    face_vis = np.einsum("fij,fj->fi", rot[keep][f_own], normals) if len(normals) else normals
    face_vis = (face_vis * pc[first]).sum(1) < 0 if len(normals) else np.zeros(0, dtype=bool)
    normals_g = np.einsum("fij,fj->fi", rot_g[f_own], normals) if len(normals) else normals
    lit = shader.face_light(normals_g) if len(normals) else np.zeros(0)
    light_row = np.concatenate([np.where(models[i].light_row >= 0, models[i].light_row + f_off[j], -1)
                                for j, i in enumerate(keep)])
    emissive = np.concatenate([models[i].emissive for i in keep])
    base = np.concatenate([models[i].colors for i in keep])
    factor = np.where(emissive, shader.emit,
                      np.where(light_row >= 0, lit[np.maximum(light_row, 0)] if len(lit) else 0.0, shader.up))
    centres = np.array([things[i].centre for i in keep])
    dist = np.sqrt(((centres - cam_pos) ** 2).sum(1))
    fog = np.exp(-dist / shader.light.visibility)
    colors = shader.blend(base, factor, fog[c_own]).tolist()
    posed = []
    for j, i in enumerate(keep):
        posed.append(Posed(things[i], pc[p_off[j]:p_off[j + 1]], uv[p_off[j]:p_off[j + 1]],
                           face_vis[f_off[j]:f_off[j + 1]], colors[c_off[j]:c_off[j + 1]]))
    # the parts to draw, with their global OBBs
    slot = np.full(n, -1)
    slot[keep] = np.arange(len(keep))
    pidx = np.flatnonzero(vis)
    part_no = pidx - np.concatenate([[0], np.cumsum(n_parts)])[owner[pidx]]
    pcentre = np.concatenate([md.part_centre for md in models])[pidx]
    phalf = np.concatenate([md.part_half for md in models])[pidx]
    pos_own = poses[owner[pidx]]
    cg = np.einsum("pij,pj->pi", pos_own[:, :3, :3], pcentre) + pos_own[:, :3, 3]
    yaw = np.arctan2(pos_own[:, 1, 0], pos_own[:, 0, 0])
    depth = np.sqrt(((cg - cam_pos) ** 2).sum(1))
    bcv = bc[pidx]
    front = (bcv[:, :, 2] > NEAR).all(1)
    buv = proj(bcv) / ONE
    rect = np.concatenate([buv.min(1), buv.max(1)], 1)
    rect[~front] = (-1e9, -1e9, 1e9, 1e9)
    items = (slot[owner[pidx]], part_no, cg, yaw, phalf, depth, rect)
    return posed, items


def render_camera(background: np.ndarray, things: list[Thing], global_to_cam: np.ndarray, cam_pos: np.ndarray,
                  k: np.ndarray, light: Lighting, max_dist: float = 160.0) -> Frame:
    """Draw ``things`` over ``background`` for a camera with pose ``global_to_cam`` and intrinsics ``k``."""
    h, w = background.shape[:2]
    img = background.copy()
    ids = np.zeros((h, w), dtype=np.int32)
    proj = Projector(k)
    shader = Shader(light)
    fx = float(k[0, 0])
    r_cg, t_cg = global_to_cam[:3, :3], global_to_cam[:3, 3]
    posed, items = [], None
    if things:
        # cull whole things by their bounding spheres against the view frustum
        centres = np.array([th.centre for th in things]) @ r_cg.T + t_cg
        radius = np.array([th.model.radius for th in things])
        keep = (centres[:, 2] > NEAR - radius) & ((centres ** 2).sum(1) < (max_dist + radius) ** 2)
        for lo_edge, hi_edge, axis in (((0 - k[0, 2]) / k[0, 0], (w - k[0, 2]) / k[0, 0], 0),
                                       ((0 - k[1, 2]) / k[1, 1], (h - k[1, 2]) / k[1, 1], 1)):
            c = centres[:, axis]
            z = centres[:, 2]
            keep &= (c - hi_edge * z) / np.hypot(1.0, hi_edge) < radius
            keep &= (lo_edge * z - c) / np.hypot(1.0, lo_edge) < radius
        kept = [things[i] for i in np.flatnonzero(keep)]
        if kept:
            posed, items = _pose_all(kept, global_to_cam, cam_pos, proj, shader, k, w, h)
    order = paint_order(items[2], items[3], items[4], items[5], items[6], cam_pos) if posed else []
    prims_by_thing: dict[int, list[Prim]] = {}
    for i in order:
        ps = posed[items[0][i]]
        ident = ps.thing.ident
        prims = part_prims(ps, ps.thing.model.parts[items[1][i]], proj, fx)
        if not prims:
            continue
        _draw(img, prims, None, cv2.LINE_AA if ident > 0 else -1)
        # the id buffer needs only the outline: faces, strokes and decals reaching past their face
        limit = 2 if ident > 0 else 0
        shape = [q for q in prims if q[0] == "line" or q[3] == 0 or q[3] == limit]
        _draw(ids, shape, ident, cv2.LINE_8)
        if ident > 0:
            prims_by_thing.setdefault(ident, []).extend(shape)
    alone: dict[int, int] = {}
    for ident, prims in prims_by_thing.items():
        rect = _prims_rect(prims, w, h)
        if rect is None:
            continue
        x0, y0, x1, y1 = rect
        mask = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
        _draw(mask, prims, 1, cv2.LINE_8, offset=np.array([x0 * ONE, y0 * ONE], dtype=np.int32))
        count = int(cv2.countNonZero(mask))
        if count:
            alone[ident] = count
    counts = np.bincount(ids.ravel())
    visible = {int(i): int(counts[i]) for i in np.flatnonzero(counts) if i > 0}
    return Frame(img, ids, alone, visible)


def _maybe_visible(corners: np.ndarray, k: np.ndarray, w: int, h: int) -> np.ndarray:
    """Per box (..., 8, 3 camera frame): may it show in the image? (conservative)"""
    z = corners[..., 2]
    behind = z < NEAR
    zz = np.where(behind, 1.0, z)
    u = k[0, 0] * corners[..., 0] / zz + k[0, 2]
    v = k[1, 1] * corners[..., 1] / zz + k[1, 2]
    outside = (u < -2).all(-1) | (u > w + 2).all(-1) | (v < -2).all(-1) | (v > h + 2).all(-1)
    return ~behind.all(-1) & (behind.any(-1) | ~outside)
