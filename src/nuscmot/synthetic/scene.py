"""One scene end to end: world, traffic, rendering of every keyframe, and its table records."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from nuscmot.synthetic.agents import ANNOTATION_RANGE, Agent, make_ego
from nuscmot.synthetic.appearance import building_parts, lamp_parts, make_look, tree_parts
from nuscmot.synthetic.background import BackgroundRenderer, Lighting, make_lighting
from nuscmot.synthetic.calibration import Camera, make_rig
from nuscmot.synthetic.config import SynthConfig
from nuscmot.synthetic.layout import Layout, make_layout
from nuscmot.synthetic.motion import simulate
from nuscmot.synthetic.population import populate
from nuscmot.synthetic.render import Thing, build_model, render_camera
from nuscmot.synthetic.tables import (
    attribute_token,
    attributes_for,
    category_token,
    date_captured,
    link,
    log_name,
    sensor_token,
    token,
    visibility_level,
)
from nuscmot.synthetic.transforms import invert_pose, pose_matrix, yaw_quaternion

BASE_TIMESTAMP = 1532402927647951     # 2018-07-24, like nuScenes' Boston/Singapore logs
DRAW_RANGE = 160.0                    # m: objects and buildings farther from the ego are not drawn
PROP_RANGE = 90.0                     # m: lamp posts and trees farther away are not drawn
GAIT_STEPS = 12
GAIT_STEP = 2 * np.pi / GAIT_STEPS
VEHICLE_ID = "n015"


@dataclass(frozen=True)
class SceneJob:
    cfg: SynthConfig
    index: int            # 0-based position in the dataset
    name: str             # scene-0001, ...
    root: Path            # dataroot being built
    id_masks: bool = False


@dataclass
class SceneResult:
    name: str
    tables: dict[str, list[dict]] = field(default_factory=dict)
    id_map: dict[str, str] = field(default_factory=dict)      # object id -> instance token (id masks)
    n_images: int = 0


def _round_pose(xy, yaw: float, z: float = 0.0) -> tuple[list[float], list[float]]:
    """A pose as stored: translation to the millimetre, quaternion to 1e-8."""
    t = [round(float(xy[0]), 3), round(float(xy[1]), 3), round(float(z), 3)]
    q = [round(float(v), 8) for v in yaw_quaternion(yaw)]
    return t, q


def _noise_tile(rng: np.random.Generator, w: int, h: int, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    n = rng.normal(0.0, sigma, size=(h + 32, w + 32, 1)).astype(np.float32)
    n = np.repeat(n, 3, axis=2) + rng.normal(0.0, sigma * 0.35, size=(h + 32, w + 32, 3)).astype(np.float32)
    pos = np.clip(n, 0, 255).astype(np.uint8)
    neg = np.clip(-n, 0, 255).astype(np.uint8)
    return pos, neg


def _finish(img: np.ndarray, light: Lighting, noise: tuple[np.ndarray, np.ndarray], rng: np.random.Generator):
    """Camera look: optics blur, sensor noise, a little exposure jitter."""
    w = img.shape[1]
    sigma = light.blur * w / 1600.0 + 0.35
    img = cv2.GaussianBlur(img, (0, 0), sigma)
    dy, dx = (int(v) for v in rng.integers(0, 32, size=2))
    h, w = img.shape[:2]
    img = cv2.add(img, noise[0][dy:dy + h, dx:dx + w])
    img = cv2.subtract(img, noise[1][dy:dy + h, dx:dx + w])
    gain = float(rng.uniform(0.96, 1.04))
    return cv2.convertScaleAbs(img, alpha=gain)


class Scenery:
    """Buildings, lamp posts and trees as occluders (id 0), built lazily when the ego nears them.

    Each item has its own seed, so what it looks like does not depend on when it is built.
    """

    def __init__(self, layout: Layout, lighting: Lighting, rng: np.random.Generator):
        self.layout, self.night = layout, lighting.night
        self.specs: list[tuple] = []         # (kind, item, global xy, global yaw, seed)
        for kind, items in (("building", layout.buildings), ("prop", layout.props)):
            seeds = rng.integers(0, 2**63, size=len(items))
            for item, seed in zip(items, seeds):
                xy = item.center if kind == "building" else item.xy
                g, yaw = layout.to_global(np.array(xy), item.yaw)
                self.specs.append((kind, item, g, float(yaw), int(seed)))
        self.xy = np.array([s[2] for s in self.specs]) if self.specs else np.zeros((0, 2))
        self.range = np.array([DRAW_RANGE + np.hypot(s[1].length, s[1].depth) / 2 if s[0] == "building"
                               else PROP_RANGE for s in self.specs])
        self.cache: dict[int, Thing] = {}

    def near(self, ego_g: np.ndarray) -> list[Thing]:
        idx = np.flatnonzero(np.hypot(*(self.xy - ego_g).T) < self.range) if len(self.xy) else []
        return [self._thing(int(i)) for i in idx]

    def _thing(self, i: int) -> Thing:
        if i not in self.cache:
            kind, item, g, yaw, seed = self.specs[i]
            rng = np.random.default_rng(seed)
            if kind == "building":
                parts = building_parts(item.length, item.depth, item.height, item.style, self.night, rng)
            elif item.kind == "lamp":
                # the arm reaches over the road the lamp stands by (in the lamp's frame: the scene's)
                x, y = item.xy
                by_main = abs(y) - self.layout.main.half < abs(x) - self.layout.cross.half
                arm = np.arctan2(-np.sign(y), 0.0) if by_main else np.arctan2(0.0, -np.sign(x))
                parts = lamp_parts(item.height, float(arm))
                yaw = self.layout.theta
            else:
                parts = tree_parts(item.height, rng)
            self.cache[i] = Thing(0, build_model(parts), pose_matrix([g[0], g[1], 0.0], yaw_quaternion(yaw)))
        return self.cache[i]


def _lidar_points(size, dist: float, rel_yaw: float, vis: float, rng: np.random.Generator) -> tuple[int, int]:
    """Plausible lidar / radar return counts (both >= 1 for annotated boxes)."""
    w, l, h = size
    area = h * (abs(l * np.sin(rel_yaw)) + abs(w * np.cos(rel_yaw)))
    lidar = 6000.0 * area / max(dist, 2.0) ** 2 * (0.1 + 0.9 * vis)
    lidar = max(1, int(round(lidar * rng.uniform(0.8, 1.2))))
    radar = max(1, int(round(min(area, 8.0) * 1.5 * np.exp(-dist / 40.0) * rng.uniform(0.5, 1.5))))
    return lidar, radar


@dataclass
class _Keyframe:
    """What one keyframe adds to the tables."""

    sample: dict
    ego_poses: list[dict]
    sample_data: list[dict]
    annotations: dict[int, dict]          # agent index -> annotation record (links filled later)


class SceneBuilder:
    """One scene: world, traffic and looks are made on construction; ``keyframe(k)`` renders."""

    def __init__(self, job: SceneJob):
        cfg = self.cfg = job.cfg
        self.job = job
        streams = np.random.SeedSequence([cfg.seed, job.index]).spawn(6)
        r_layout, r_agents, r_look, self.r_render, r_calib, self.r_misc = (np.random.default_rng(s) for s in streams)
        self.key_times = np.arange(cfg.frames_per_scene) * 0.5
        self.layout = make_layout(r_layout)
        self.lighting = make_lighting(r_layout, cfg.lighting)
        self.cams = make_rig(r_calib, cfg.image_width, cfg.image_height)
        self.ego = make_ego(self.layout, r_agents, float(self.key_times[-1]))
        self.density = int(r_agents.integers(cfg.min_objects, cfg.max_objects + 1))
        placed = populate(self.layout, self.ego, self.key_times, self.density, cfg.distractor_fraction, r_agents)
        self.agents = [self.ego] + placed
        self.traj = simulate(self.layout, self.agents, cfg.frames_per_scene, tail=0.1)
        # the map covers where the ego drives plus the annotation range
        self.layout.fit_map(np.hypot(*self.traj.ego_xy.T).max() + ANNOTATION_RANGE + 15.0)

        self.looks = [None] + [make_look(a.category, a.size, a.subtype, a.with_rider, r_look) for a in self.agents[1:]]
        self.models = [None] + [None if lk.static_parts is None else build_model(lk.static_parts)
                                for lk in self.looks[1:]]
        self.gait = [float(r_look.uniform(0, 2 * np.pi)) for _ in self.agents]
        self.gait_models: dict[tuple[int, int], object] = {}
        self.scenery = Scenery(self.layout, self.lighting, r_look)
        self.background = BackgroundRenderer(self.layout, self.cams, self.lighting, self.r_render)
        self.noise = _noise_tile(self.r_render, cfg.image_width, cfg.image_height, self.lighting.noise)
        self.start = BASE_TIMESTAMP + job.index * 1_800_000_000 + int(self.r_misc.integers(0, 600_000_000))
        self.logfile = log_name(self.start, VEHICLE_ID)
        self.cam_mats = [c.ego_to_cam for c in self.cams]

    def tok(self, *key) -> str:
        return token(self.cfg.seed, self.job.name, *key)

    # --- one keyframe ------------------------------------------------------------------------
    def _things(self, k: int, ego_g: np.ndarray) -> tuple[list[Thing], dict[int, tuple]]:
        """Objects near the ego at keyframe k, posed exactly as their (rounded) annotations."""
        traj, layout = self.traj, self.layout
        things, boxes = [], {}
        for i in range(1, len(self.agents)):
            g, yaw = layout.to_global(traj.xy[i, k], traj.yaw[i, k])
            if np.hypot(*(g - ego_g)) > DRAW_RANGE:
                continue
            trans, rot = _round_pose(g, float(yaw), self.agents[i].size[2] / 2)
            boxes[i] = (trans, rot, float(yaw))
            model = self.models[i]
            if model is None:   # walking: the gait phase, quantised so that poses are reused
                step = 0
                if traj.speed[i, k] > 0.2:
                    step = int(round((traj.walked[i, k] / 0.7 * np.pi + self.gait[i]) / GAIT_STEP)) % GAIT_STEPS
                if (i, step) not in self.gait_models:
                    self.gait_models[(i, step)] = build_model(self.looks[i].parts(step * GAIT_STEP))
                model = self.gait_models[(i, step)]
            things.append(Thing(i, model, pose_matrix(trans, rot)))
        return things + self.scenery.near(ego_g), boxes

    def keyframe(self, k: int) -> _Keyframe:
        """Render keyframe k in all cameras (writing the JPEGs) and return its records."""
        cfg, layout, traj = self.cfg, self.layout, self.traj
        ts = self.start + k * 500_000
        sample_tok = self.tok("sample", k)
        ego_g = layout.to_global(traj.xy[0, k])
        things, boxes = self._things(k, ego_g)
        alone = np.zeros(len(self.agents))
        visible = np.zeros(len(self.agents))
        out = _Keyframe({"token": sample_tok, "timestamp": ts, "scene_token": self.tok("scene")}, [], [], {})
        for ci, cam in enumerate(self.cams):
            ts_cam = ts + cam.time_offset_us
            ego_xy, ego_yaw = traj.ego_pose(k * 0.5 + cam.time_offset_us / 1e6)
            ego_xy_g, ego_yaw_g = layout.to_global(ego_xy, ego_yaw)
            e_trans, e_rot = _round_pose(ego_xy_g, float(ego_yaw_g))
            g2c = self.cam_mats[ci] @ invert_pose(pose_matrix(e_trans, e_rot))
            cam_pos = invert_pose(g2c)[:3, 3]
            background = self.background.render(ci, np.array(e_trans[:2]), float(ego_yaw_g))
            frame = render_camera(background, things, g2c, cam_pos, cam.k, self.lighting, DRAW_RANGE)
            filename = f"samples/{cam.channel}/{self.logfile}__{cam.channel}__{ts_cam}.jpg"
            self._write(filename, frame, cam)
            for ident, n in frame.alone.items():
                alone[ident] += n
            for ident, n in frame.visible.items():
                visible[ident] += n
            sd_tok = self.tok("sample_data", cam.channel, k)
            out.ego_poses.append({"token": sd_tok, "timestamp": ts_cam, "rotation": e_rot, "translation": e_trans})
            out.sample_data.append({
                "token": sd_tok, "sample_token": sample_tok, "ego_pose_token": sd_tok,
                "calibrated_sensor_token": self.tok("calibrated_sensor", cam.channel), "timestamp": ts_cam,
                "fileformat": "jpg", "is_key_frame": True, "height": cam.height, "width": cam.width,
                "filename": filename, "channel_": cam.channel,
            })
        # annotations: every object within range of the ego at this keyframe
        for i, (trans, rot, yaw_g) in boxes.items():
            a = self.agents[i]
            dist = float(np.hypot(trans[0] - ego_g[0], trans[1] - ego_g[1]))
            if dist > ANNOTATION_RANGE:
                continue
            frac = visible[i] / alone[i] if alone[i] > 0 else 0.0
            bearing = np.arctan2(trans[1] - ego_g[1], trans[0] - ego_g[0])
            lidar, radar = _lidar_points(a.size, dist, yaw_g - bearing, frac, self.r_misc)
            attrs = attributes_for(a.category, float(traj.speed[i, k]), a.parked, a.with_rider)
            out.annotations[i] = {
                "token": self.tok("sample_annotation", i, k), "sample_token": sample_tok,
                "instance_token": self.tok("instance", i), "visibility_token": visibility_level(frac),
                "attribute_tokens": [attribute_token(n) for n in attrs],
                "translation": trans, "size": [round(float(v), 3) for v in a.size], "rotation": rot,
                "num_lidar_pts": lidar, "num_radar_pts": radar, "seen_": frac > 0,
            }
        return out

    def _write(self, filename: str, frame, cam: Camera) -> None:
        image = _finish(frame.image, self.lighting, self.noise, self.r_render)
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.cfg.jpeg_quality])
        if not ok:
            raise RuntimeError(f"JPEG encoding failed for {filename}")
        (self.job.root / filename).write_bytes(buf.tobytes())
        if self.job.id_masks:
            mask_path = self.job.root / "id_masks" / cam.channel / (Path(filename).stem + ".png")
            mask_path.parent.mkdir(parents=True, exist_ok=True)
            ok, buf = cv2.imencode(".png", frame.ids.astype(np.uint16))
            mask_path.write_bytes(buf.tobytes())

    # --- the whole scene -----------------------------------------------------------------------
    def build(self) -> SceneResult:
        """Render every keyframe and assemble the scene's table records."""
        name = self.job.name
        frames = [self.keyframe(k) for k in range(self.cfg.frames_per_scene)]
        result = SceneResult(name, n_images=sum(len(f.sample_data) for f in frames))
        t = result.tables = {k: [] for k in ("calibrated_sensor", "ego_pose", "log", "scene", "sample",
                                              "sample_data", "sample_annotation", "instance", "map")}
        for c in self.cams:
            t["calibrated_sensor"].append({
                "token": self.tok("calibrated_sensor", c.channel), "sensor_token": sensor_token(c.channel),
                "translation": list(c.translation), "rotation": list(c.rotation),
                "camera_intrinsic": [list(r) for r in c.intrinsic],
            })
        samples = [f.sample for f in frames]
        link(samples)
        t["sample"] = samples
        for f in frames:
            t["ego_pose"] += f.ego_poses
        by_channel: dict[str, list[dict]] = {c.channel: [] for c in self.cams}
        for f in frames:
            for sd in f.sample_data:
                by_channel[sd.pop("channel_")].append(sd)
        for records in by_channel.values():
            link(records)
            t["sample_data"] += records
        for i in range(1, len(self.agents)):
            anns = _visible_span([f.annotations[i] for f in frames if i in f.annotations])
            if not anns:
                continue
            link(anns)
            t["sample_annotation"] += anns
            t["instance"].append({
                "token": self.tok("instance", i), "category_token": category_token(self.agents[i].category),
                "nbr_annotations": len(anns), "first_annotation_token": anns[0]["token"],
                "last_annotation_token": anns[-1]["token"],
            })
            result.id_map[str(i)] = self.tok("instance", i)
        log_tok, map_tok = self.tok("log"), self.tok("map")
        t["log"].append({"token": log_tok, "logfile": self.logfile, "vehicle": VEHICLE_ID,
                         "date_captured": date_captured(self.start), "location": f"synth-{name}"})
        t["scene"].append({
            "token": self.tok("scene"), "log_token": log_tok, "nbr_samples": len(samples),
            "first_sample_token": samples[0]["token"], "last_sample_token": samples[-1]["token"], "name": name,
            "description": _describe(self.layout, self.lighting, self.ego, self.density),
        })
        map_file = f"maps/{map_tok}.png"
        ok, buf = cv2.imencode(".png", self.layout.map_mask(), [cv2.IMWRITE_PNG_COMPRESSION, 1,
                                                                cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE])
        if not ok:
            raise RuntimeError(f"PNG encoding failed for {map_file}")
        (self.job.root / map_file).write_bytes(buf.tobytes())
        t["map"].append({"token": map_tok, "log_tokens": [log_tok], "category": "semantic_prior",
                         "filename": map_file})
        return result


def _visible_span(anns: list[dict]) -> list[dict]:
    """An instance's annotations from its first to its last keyframe with visible pixels.

    Like nuScenes' annotators, who follow an object through occlusions but do not label
    one that never shows: hidden keyframes inside the track stay (visibility level 1).
    """
    seen = [a.pop("seen_") for a in anns]
    if not any(seen):
        return []
    first = seen.index(True)
    last = len(seen) - 1 - seen[::-1].index(True)
    return anns[first:last + 1]


def build_scene(job: SceneJob) -> SceneResult:
    """Generate, render and tabulate one scene into ``job.root``."""
    return SceneBuilder(job).build()


def _describe(layout: Layout, lighting: Lighting, ego: Agent, density: int) -> str:
    lanes = f"{layout.main.lanes}x{layout.cross.lanes} lane junction"
    drive = "ego waits" if ego.v_des <= 0 else {"straight": "ego drives through", "left": "ego turns left",
                                                  "right": "ego turns right"}[ego.subtype]
    return f"synthetic, {lighting.kind}, {lanes}, {drive}, ~{density} objects in range"
