"""Per-camera background: the road surface seen in perspective, sky and a distant skyline.

Every background pixel below the horizon is a ray hitting the ground plane (z = 0); its
ground point is fixed in the ego frame, so per frame only a 2D rigid transform into the
scene frame is needed before the road map (lanes, markings, kerbs, sidewalks, crosswalks)
is looked up analytically. Markings are box-filtered by the pixel footprint so distant
lines fade instead of aliasing. The asphalt texture is anchored to the world, so the road
moves consistently with the ego.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from nuscmot.synthetic.calibration import Camera
from nuscmot.synthetic.config import LIGHTING_KINDS, LightingMix
from nuscmot.synthetic.layout import CROSSWALK, STOP_LINE, Layout

TEXTURE_SIZE = 256
TEXELS_PER_M = 4.0


@dataclass(frozen=True)
class Lighting:
    """Scene illumination and camera look."""

    kind: str
    sun: np.ndarray            # unit vector towards the sun (global frame)
    ambient: float
    diffuse: float
    exposure: float
    sky_zenith: np.ndarray     # BGR
    sky_horizon: np.ndarray
    haze: np.ndarray
    visibility: float          # m, haze e-folding distance
    noise: float               # pixel noise sigma (DN)
    blur: float                # Gaussian blur sigma (px at 1600 px width)

    @property
    def night(self) -> bool:
        return self.kind == "night"


def make_lighting(rng: np.random.Generator, mix: LightingMix = LightingMix()) -> Lighting:
    kind = str(rng.choice(list(LIGHTING_KINDS), p=mix.probabilities))
    az = rng.uniform(-np.pi, np.pi)
    el = {"clear": rng.uniform(0.35, 1.1), "overcast": 0.9, "dusk": rng.uniform(0.05, 0.2),
          "night": 0.8, "rain": 0.9}[kind]
    sun = np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
    c = np.array
    table = {
        #          ambient diffuse exposure zenith            horizon           haze              vis   noise blur
        "clear": (0.55, 0.55, 1.0, c([200, 140, 90]), c([225, 205, 185]), c([215, 205, 195]), 900, 3.0, 0.9),
        "overcast": (0.85, 0.15, 0.95, c([175, 170, 165]), c([200, 198, 195]), c([195, 195, 195]), 500, 3.5, 1.0),
        "dusk": (0.5, 0.45, 0.8, c([140, 90, 70]), c([120, 160, 220]), c([130, 150, 180]), 600, 5.0, 1.1),
        "night": (0.3, 0.05, 0.75, c([35, 22, 15]), c([60, 50, 45]), c([45, 40, 38]), 250, 7.0, 1.3),
        "rain": (0.7, 0.1, 0.85, c([150, 148, 145]), c([170, 170, 170]), c([165, 165, 165]), 220, 5.0, 1.6),
    }
    amb, dif, exp_, zen, hor, haze, vis, noise, blur = table[kind]
    jitter = rng.uniform(0.92, 1.08)
    return Lighting(kind, sun, amb, dif, exp_ * jitter, zen.astype(np.float32), hor.astype(np.float32),
                    haze.astype(np.float32), float(vis), float(noise), float(blur))


@dataclass(frozen=True)
class Palette:
    asphalt: np.ndarray
    parking: np.ndarray
    sidewalk: np.ndarray
    kerb: np.ndarray
    verge: np.ndarray
    white: np.ndarray
    yellow: np.ndarray
    skyline: np.ndarray


def make_palette(layout: Layout, rng: np.random.Generator) -> Palette:
    grey = rng.uniform(78.0, 100.0)
    asphalt = np.array([grey + 4, grey + 2, grey], dtype=np.float32)
    side = rng.uniform(150.0, 180.0)
    verge = np.array([70, 125, 85] if layout.verge else [125, 135, 145], dtype=np.float32) * rng.uniform(0.85, 1.1)
    return Palette(
        asphalt=asphalt,
        parking=asphalt * 1.08,
        sidewalk=np.array([side, side + 2, side + 4], dtype=np.float32),
        kerb=np.array([200, 200, 200], dtype=np.float32),
        verge=verge.astype(np.float32),
        white=np.array([228, 230, 230], dtype=np.float32),
        yellow=np.array([40, 185, 225], dtype=np.float32),
        skyline=np.array([150, 145, 140], dtype=np.float32) * rng.uniform(0.85, 1.05),
    )


def _box_cov(d: np.ndarray, hw: float, fp: np.ndarray) -> np.ndarray:
    """Fraction of a pixel (footprint fp, centred at distance d >= 0) inside the band |x| < hw."""
    return np.clip((np.minimum(d + fp / 2, hw) - np.maximum(d - fp / 2, -hw)) / fp, 0.0, 1.0)


def _dash_cov(t: np.ndarray, on: float, period: float, fp: np.ndarray) -> np.ndarray:
    """Fraction of a pixel covering the 'on' part of a periodic dash pattern along t."""

    def prim(x):
        return np.floor(x / period) * on + np.minimum(np.mod(x, period), on)

    return np.clip((prim(t + fp / 2) - prim(t - fp / 2)) / fp, 0.0, 1.0)


def _band(paint: np.ndarray, idx: np.ndarray, d: np.ndarray, hw: float, fp: np.ndarray,
          along: np.ndarray | None = None, dash: tuple[float, float] | None = None) -> None:
    """Add paint of a band |d| < hw (optionally dashed along ``along``) at pixels ``idx``."""
    near = np.abs(d) < hw + fp / 2
    if not near.any():
        return
    sel = idx[near]
    cov = _box_cov(np.abs(d[near]), hw, fp[near])
    if dash is not None:
        cov = cov * _dash_cov(along[near], dash[0], dash[1], fp[near])
    paint[sel] = np.maximum(paint[sel], cov)


def ground_colors(layout: Layout, pal: Palette, x: np.ndarray, y: np.ndarray, fp: np.ndarray,
                  tex: np.ndarray) -> np.ndarray:
    """BGR (N, 3) float32 colours of ground points (scene-local x, y) seen with footprint fp (m)."""
    m, c = layout.main, layout.cross
    a, b = np.abs(y), np.abs(x)
    in_m, in_c = a < m.half, b < c.half
    road = in_m | in_c
    walk = ~road & ((a < m.outer) | (b < c.outer))
    park = (in_m & ~in_c & (a > m.drive_half + m.bike_lane)) | (in_c & ~in_m & (b > c.drive_half + c.bike_lane))
    code = walk.astype(np.int8) + 2 * road + park          # 0 verge, 1 sidewalk, 2 asphalt, 3 parking
    table = np.stack([pal.verge, pal.sidewalk, pal.asphalt, pal.parking]).astype(np.float32)
    col = table[code]
    # texture (world anchored), faded where a pixel spans several texels
    amp = np.array([14.0, 6.0, 9.0, 9.0], dtype=np.float32)[code] * np.clip(0.5 / (fp * TEXELS_PER_M), 0.0, 1.0)
    col += (tex * amp)[:, None]

    white = np.zeros(len(x), dtype=np.float32)
    yellow = np.zeros(len(x), dtype=np.float32)
    for road_i, (r, o, in_r, in_o) in enumerate(((m, c, in_m, in_c), (c, m, in_c, in_m))):
        idx = np.flatnonzero(in_r & ~in_o)
        if not idx.size:
            continue
        along = x[idx] if road_i == 0 else y[idx]
        across = a[idx] if road_i == 0 else b[idx]
        sx, sy = x[idx], y[idx]
        f = fp[idx]
        far = np.abs(along)
        _band(yellow, idx, across - 0.13, 0.06, f)
        for k in range(1, r.lanes):
            _band(white, idx, across - k * r.lane_width, 0.07, f, far, (3.0, 9.0))
        if r.parking or r.bike_lane:
            _band(white, idx, across - r.drive_half, 0.08, f)
        if r.parking and r.bike_lane:
            _band(white, idx, across - r.drive_half - r.bike_lane, 0.07, f)
        approach = (sx * sy > 0) if road_i == 0 else (sx * sy < 0)
        stop = approach & (across < r.drive_half)
        if stop.any():
            _band(white, idx[stop], far[stop] - (o.half + STOP_LINE), 0.2, f[stop])
        if layout.crosswalks:
            zebra = (far > o.half + CROSSWALK[0]) & (far < o.half + CROSSWALK[1]) & (across < r.half - 0.3)
            if zebra.any():
                cov = _dash_cov(across[zebra] + 0.25, 0.5, 1.0, f[zebra])
                white[idx[zebra]] = np.maximum(white[idx[zebra]], cov)
    for paint, colour in ((white, pal.white), (yellow, pal.yellow)):
        sel = np.flatnonzero(paint > 0)
        if sel.size:
            col[sel] += (colour - col[sel]) * (paint[sel, None] * 0.9)
    # kerb stones and sidewalk joints
    idx = np.flatnonzero(walk)
    if idx.size:
        wa, wb, f = a[idx], b[idx], fp[idx]
        kerb_d = np.minimum(np.where(wa >= m.half, wa - m.half, 99.0), np.where(wb >= c.half, wb - c.half, 99.0))
        k = _box_cov(np.abs(kerb_d - 0.12), 0.12, f)
        joints = 1.0 - _dash_cov(x[idx], 1.75, 1.8, f) * _dash_cov(y[idx], 1.75, 1.8, f)
        col[idx] = (col[idx] + (pal.kerb - col[idx]) * k[:, None]) * (1.0 - 0.15 * joints)[:, None]
    return col


@dataclass
class CameraBackground:
    """Precomputed rays of one camera (at the background resolution)."""

    shape: tuple[int, int]
    ground_idx: np.ndarray     # flat pixel indices hitting the ground
    ground_ego: np.ndarray     # (N, 2) ground points in the ego frame
    ground_dist: np.ndarray    # (N,) m
    footprint: np.ndarray      # (N,) m per pixel
    sky_idx: np.ndarray
    sky_elev: np.ndarray       # radians above the horizon
    sky_az: np.ndarray         # azimuth in the ego frame
    vignette: np.ndarray       # (h, w, 1)
    # filled in by BackgroundRenderer for its lighting
    ground_gain: np.ndarray | None = None
    ground_haze: np.ndarray | None = None
    sky_base: np.ndarray | None = None
    sky_cloud_amp: np.ndarray | None = None
    sky_cloud_v: np.ndarray | None = None
    sky_vig: np.ndarray | None = None


def camera_background(cam: Camera, scale: int) -> CameraBackground:
    w, h = cam.width // scale, cam.height // scale
    k = cam.k.copy()
    # reduced pixel u' sits at full-resolution u = scale * u' + (scale - 1) / 2 (cv2.resize's centres)
    k[:2, :2] /= scale
    k[:2, 2] = (k[:2, 2] - (scale - 1) / 2) / scale
    us, vs = np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64))
    rays = np.linalg.solve(k, np.stack([us.ravel(), vs.ravel(), np.ones(us.size)]))   # (3, N) camera frame
    c2e = cam.cam_to_ego
    d = c2e[:3, :3] @ rays                                                            # ego frame directions
    origin = c2e[:3, 3]
    norm = np.linalg.norm(d, axis=0)
    down = d[2] < -1e-4
    t = np.where(down, -origin[2] / np.where(down, d[2], -1.0), 0.0)
    g = origin[:2, None] + d[:2] * t
    dist = t * norm
    f = k[0, 0]
    # footprint: lateral extent dist/f, stretched along the view by the grazing angle
    grazing = np.abs(d[2]) / norm
    fp = dist / f / np.maximum(grazing, 1e-3) ** 0.5
    ground_idx = np.flatnonzero(down & (dist < 1500.0))
    sky_idx = np.flatnonzero(~(down & (dist < 1500.0)))
    yy, xx = np.mgrid[0:h, 0:w]
    r2 = ((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2
    vignette = (1.0 - 0.12 * r2).astype(np.float32)[:, :, None]
    return CameraBackground(
        shape=(h, w),
        ground_idx=ground_idx,
        ground_ego=g[:, ground_idx].T.astype(np.float32),
        ground_dist=dist[ground_idx].astype(np.float32),
        footprint=np.maximum(fp[ground_idx], 1e-3).astype(np.float32),
        sky_idx=sky_idx,
        sky_elev=np.arcsin(np.clip(d[2, sky_idx] / norm[sky_idx], -1, 1)),
        sky_az=np.arctan2(d[1, sky_idx], d[0, sky_idx]),
        vignette=vignette,
    )


def make_texture(rng: np.random.Generator) -> np.ndarray:
    """Smooth multi-scale noise in about [-1, 1], tiling (TEXTURE_SIZE square)."""
    tex = np.zeros((TEXTURE_SIZE, TEXTURE_SIZE), dtype=np.float32)
    for cells, weight in ((8, 0.5), (32, 0.35), (128, 0.25), (256, 0.35)):
        small = rng.standard_normal((cells, cells)).astype(np.float32)
        small = np.tile(small, (3, 3))
        big = cv2.resize(small, (TEXTURE_SIZE * 3, TEXTURE_SIZE * 3), interpolation=cv2.INTER_CUBIC)
        tex += weight * big[TEXTURE_SIZE:2 * TEXTURE_SIZE, TEXTURE_SIZE:2 * TEXTURE_SIZE]
    return tex / (np.abs(tex).max() + 1e-6)


def make_skyline(rng: np.random.Generator) -> np.ndarray:
    """Elevation (radians) of the distant skyline per 0.5 degree of global azimuth."""
    bins = 720
    sky = np.zeros(bins, dtype=np.float64)
    a = 0
    while a < bins:
        width = int(rng.integers(3, 30))
        height = np.deg2rad(rng.choice([0.0, rng.uniform(0.5, 3.0), rng.uniform(2.0, 6.0)], p=[0.25, 0.45, 0.3]))
        sky[a:a + width] = height
        a += width
    return sky


def _sample(tex: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Bilinear, wrapping lookup of ``tex`` at texel coordinates (u, v) (any length)."""
    n = len(u)
    cols = 512
    rows = -(-n // cols) if n else 0
    mu = np.zeros(rows * cols, dtype=np.float32)
    mv = np.zeros(rows * cols, dtype=np.float32)
    mu[:n] = np.mod(u, TEXTURE_SIZE)
    mv[:n] = np.mod(v, TEXTURE_SIZE)
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    out = cv2.remap(tex, mu.reshape(rows, cols), mv.reshape(rows, cols), cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_WRAP)
    return out.ravel()[:n]


class BackgroundRenderer:
    """Draws the background of any camera for any ego pose."""

    def __init__(self, layout: Layout, cams: list[Camera], lighting: Lighting, rng: np.random.Generator):
        self.layout = layout
        self.light = lighting
        self.palette = make_palette(layout, rng)
        self.texture = make_texture(rng)
        self.clouds = make_texture(rng)
        self.skyline = make_skyline(rng)
        self.scale = 2 if cams[0].width >= 640 else 1
        self.cams = [camera_background(c, self.scale) for c in cams]
        self.size = (cams[0].width, cams[0].height)
        self._cache: dict[int, tuple] = {}
        self._sky_cache: dict[int, tuple] = {}
        sun_lit = lighting.ambient + lighting.diffuse * max(0.0, float(lighting.sun[2]))
        ground_light = np.float32(sun_lit * lighting.exposure)
        self.city_color = (self.palette.skyline * (0.75 + 0.25 * min(lighting.exposure, 1.0))
                           * lighting.exposure).astype(np.float32)
        for cb in self.cams:
            vig = cb.vignette.reshape(-1)
            gv = vig[cb.ground_idx]
            fog = np.exp(-cb.ground_dist / lighting.visibility).astype(np.float32)
            cb.ground_gain = (ground_light * fog * gv)[:, None]
            cb.ground_haze = (lighting.haze * lighting.exposure * ((1.0 - fog) * gv)[:, None]).astype(np.float32)
            sv = vig[cb.sky_idx]
            grad = (np.clip(cb.sky_elev / 0.5, 0.0, 1.0) ** 0.7).astype(np.float32)
            base = lighting.sky_horizon + (lighting.sky_zenith - lighting.sky_horizon) * grad[:, None]
            cb.sky_base = (base * lighting.exposure * sv[:, None]).astype(np.float32)
            cb.sky_cloud_amp = (12.0 * (1.0 - grad * 0.5) * lighting.exposure * sv).astype(np.float32)
            cb.sky_cloud_v = (np.clip(cb.sky_elev, 0, None) * 300.0).astype(np.float32)
            cb.sky_vig = sv[:, None]
            cb.sky_az = cb.sky_az.astype(np.float32)

    def _sky(self, cam_index: int, ego_yaw: float) -> np.ndarray:
        """Sky pixels: gradient (fixed per camera), clouds and the distant skyline (turn with the ego)."""
        hit = self._sky_cache.get(cam_index)
        if hit is not None and hit[0] == float(ego_yaw):
            return hit[1]
        cb = self.cams[cam_index]
        az = np.mod(cb.sky_az + np.float32(ego_yaw), np.float32(2 * np.pi))
        cloud = _sample(self.clouds, az * (TEXTURE_SIZE / (2 * np.pi)), cb.sky_cloud_v)
        sky = cb.sky_base + (cloud * cb.sky_cloud_amp)[:, None]
        bins = (az * (len(self.skyline) / (2 * np.pi))).astype(np.int32) % len(self.skyline)
        city = np.flatnonzero(cb.sky_elev < self.skyline[bins])
        sky[city] = self.city_color * cb.sky_vig[city]
        self._sky_cache[cam_index] = (float(ego_yaw), sky)
        return sky

    def render(self, cam_index: int, ego_xy: np.ndarray, ego_yaw: float) -> np.ndarray:
        """uint8 BGR background for camera ``cam_index`` at a global ego pose (cached while it stands)."""
        key = (cam_index, float(ego_xy[0]), float(ego_xy[1]), float(ego_yaw))
        hit = self._cache.get(cam_index)
        if hit is not None and hit[0] == key:
            return hit[1]
        img = self._render(cam_index, ego_xy, ego_yaw)
        self._cache[cam_index] = (key, img)
        return img

    def _render(self, cam_index: int, ego_xy: np.ndarray, ego_yaw: float) -> np.ndarray:
        cb = self.cams[cam_index]
        lay, light = self.layout, self.light
        h, w = cb.shape
        out = np.empty((h * w, 3), dtype=np.float32)
        # ground: ego frame -> global -> scene-local in one rigid transform
        ang = ego_yaw - lay.theta
        ca, sa = np.cos(ang), np.sin(ang)
        ct, st = np.cos(lay.theta), np.sin(lay.theta)
        d = np.asarray(ego_xy, dtype=np.float64) - lay.origin
        off = np.array([ct * d[0] + st * d[1], -st * d[0] + ct * d[1]], dtype=np.float32)
        ge = cb.ground_ego
        x = ca * ge[:, 0] - sa * ge[:, 1] + off[0]
        y = sa * ge[:, 0] + ca * ge[:, 1] + off[1]
        tex = _sample(self.texture, x * TEXELS_PER_M, y * TEXELS_PER_M)
        col = ground_colors(lay, self.palette, x, y, cb.footprint, tex)
        col *= cb.ground_gain
        col += cb.ground_haze
        out[cb.ground_idx] = col
        out[cb.sky_idx] = self._sky(cam_index, ego_yaw)
        img = np.clip(out, 0, 255).astype(np.uint8).reshape(h, w, 3)
        if self.scale != 1:
            img = cv2.resize(img, self.size, interpolation=cv2.INTER_LINEAR)
        return img
