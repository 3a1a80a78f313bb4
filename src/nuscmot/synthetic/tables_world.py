"""The records of one scene of a tables-only nuScenes set (:mod:`.tables_only`), numpy first.

A scene is the ego driving a straight line at a steady speed, with 12 sensors at nuScenes'
rates (6 cameras at 12 Hz, the lidar at 20 Hz, 5 radars at ~13 Hz; keyframes at 2 Hz, the
sweeps between them), and objects around it: each instance is annotated on a contiguous run
of keyframes, at a bearing anywhere around the ego (so in some camera's view) and 4-50 m
away, moving at a constant velocity. Category mix, box sizes and visibility levels follow
nuScenes' published statistics. Every value is drawn from the scene's own seed stream.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nuscmot.synthetic.calibration import RIG, make_rig
from nuscmot.synthetic.tables import attribute_token, attributes_for, category_token, link, sensor_token

CAMERA_SIZE = (1600, 900)
KEYFRAME_US = 500_000
# channel, modality, sweeps between two keyframes (alternating list), sweeps before the first, time offset
LIDAR = ("LIDAR_TOP", "lidar", (9,), 4, 0)
RADARS = tuple((f"RADAR_{p}", "radar", (5, 6), 3, off) for p, off in
               (("FRONT", 3_000), ("FRONT_LEFT", 8_000), ("FRONT_RIGHT", 14_000), ("BACK_LEFT", 19_000),
                ("BACK_RIGHT", 25_000)))
CAMERAS = tuple((s.channel, "camera", (5,), 2, s.time_offset_us) for s in RIG)
SENSORS = CAMERAS + (LIDAR,) + RADARS
NON_CAMERA_MOUNTS = {  # translation (m), rotation (w, x, y, z) in the ego frame, as nuScenes' rig
    "LIDAR_TOP": ([0.943713, 0.0, 1.84023], [0.7077955119163518, -0.006492242056004365, 0.010646214713995808,
                                             -0.7063073142877817]),
    "RADAR_FRONT": ([3.412, 0.0, 0.5], [0.9999984769132877, 0.0, 0.0, 0.0017453283658983088]),
    "RADAR_FRONT_LEFT": ([2.422, 0.8, 0.78], [0.7046342835119749, 0.0, 0.0, 0.7095707365365209]),
    "RADAR_FRONT_RIGHT": ([2.422, -0.8, 0.77], [0.7103532724176078, 0.0, 0.0, -0.7038453156522274]),
    "RADAR_BACK_LEFT": ([-0.562, 0.628, 0.53], [0.034899496702501, 0.0, 0.0, 0.9993908270190958]),
    "RADAR_BACK_RIGHT": ([-0.562, -0.618, 0.53], [0.0610485395348569, 0.0, 0.0, -0.9981347984218669]),
}
# nuScenes category -> (approximate trainval annotation count, mean size w, l, h in m)
CATEGORY_STATS = {
    "vehicle.car": (493_322, (1.95, 4.62, 1.73)),
    "human.pedestrian.adult": (208_240, (0.67, 0.73, 1.77)),
    "movable_object.barrier": (152_087, (2.49, 0.48, 0.98)),
    "movable_object.trafficcone": (97_959, (0.41, 0.41, 1.07)),
    "vehicle.truck": (88_519, (2.51, 6.93, 2.84)),
    "vehicle.trailer": (24_860, (2.90, 12.29, 3.87)),
    "movable_object.pushable_pullable": (24_605, (0.61, 0.67, 1.03)),
    "vehicle.construction": (14_671, (2.82, 6.56, 3.20)),
    "vehicle.bus.rigid": (14_501, (2.95, 11.19, 3.49)),
    "vehicle.motorcycle": (12_617, (0.77, 2.11, 1.47)),
    "vehicle.bicycle": (11_859, (0.61, 1.70, 1.30)),
    "human.pedestrian.construction_worker": (9_161, (0.68, 0.72, 1.74)),
    "movable_object.debris": (3_016, (0.70, 1.00, 0.40)),
    "static_object.bicycle_rack": (2_713, (3.00, 1.00, 1.20)),
    "human.pedestrian.child": (2_066, (0.51, 0.53, 1.38)),
    "vehicle.bus.bendy": (1_820, (2.94, 20.0, 3.47)),
    "human.pedestrian.stroller": (1_072, (0.60, 0.90, 1.10)),
    "animal": (787, (0.40, 0.70, 0.60)),
    "human.pedestrian.police_officer": (727, (0.67, 0.73, 1.77)),
    "vehicle.emergency.police": (638, (2.00, 5.00, 1.60)),
    "human.pedestrian.wheelchair": (503, (0.70, 1.10, 1.30)),
    "human.pedestrian.personal_mobility": (395, (0.60, 1.20, 1.60)),
    "vehicle.emergency.ambulance": (49, (2.50, 6.00, 2.60)),
}
CATEGORY_NAMES = tuple(CATEGORY_STATS)
_CAT_P = np.array([c for c, _ in CATEGORY_STATS.values()], dtype=np.float64)
_CAT_P /= _CAT_P.sum()
_CAT_SIZE = np.array([s for _, s in CATEGORY_STATS.values()], dtype=np.float64)
VISIBILITY_P = (0.2, 0.1, 0.1, 0.6)  # levels 1-4 (0-40 % ... 80-100 %)


@dataclass(frozen=True)
class SceneSpec:
    """Where a scene sits in the set and how big it is."""

    index: int
    name: str
    token: str
    log_token: str
    logfile: str
    start_us: int
    samples: int
    instances: int
    sweeps: bool


class Tokens:
    """32-hex-digit tokens from a seeded stream (nuScenes' token format)."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng

    def take(self, n: int) -> list[str]:
        h = self.rng.bytes(16 * n).hex()
        return [h[i:i + 32] for i in range(0, 32 * n, 32)]


def ego_at(rng: np.random.Generator, spec: SceneSpec):
    """``pose(t_us) -> (translation (N, 3), yaw (N,))`` of the scene's straight drive."""
    origin = rng.uniform(300.0, 2000.0, size=2)
    heading = rng.uniform(-np.pi, np.pi)
    speed = rng.choice([0.0, rng.uniform(2.0, 12.0)], p=[0.2, 0.8])
    direction = np.array([np.cos(heading), np.sin(heading)])

    def pose(t_us: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = (np.asarray(t_us, dtype=np.float64) - spec.start_us) / 1e6
        xy = origin[None, :] + speed * t[:, None] * direction[None, :]
        return np.column_stack([xy, np.zeros(len(t))]), np.full(len(t), heading)

    return pose, speed * direction


def yaw_quaternions(yaw: np.ndarray) -> np.ndarray:
    return np.column_stack([np.cos(yaw / 2), np.zeros(len(yaw)), np.zeros(len(yaw)), np.sin(yaw / 2)])


def calibrated_sensors(rng: np.random.Generator, tokens: list[str]) -> list[dict]:
    """The scene's 12 calibrated sensors (cameras: nuScenes' rig with a small per-scene error)."""
    cams = {c.channel: c for c in make_rig(rng, *CAMERA_SIZE)}
    out = []
    for tok, (channel, _, _, _, _) in zip(tokens, SENSORS):
        rec = {"token": tok, "sensor_token": sensor_token(channel)}
        if channel in cams:
            cam = cams[channel]
            rec.update(translation=list(cam.translation), rotation=list(cam.rotation),
                       camera_intrinsic=[list(r) for r in cam.intrinsic])
        else:
            t, q = NON_CAMERA_MOUNTS[channel]
            rec.update(translation=list(t), rotation=list(q), camera_intrinsic=[])
        out.append(rec)
    return out


def sensor_times(sample_us: np.ndarray, sweeps: tuple[int, ...], lead: int, offset: int, with_sweeps: bool):
    """(timestamps, is_key_frame, sample index) of one sensor's frames in time order."""
    n = len(sample_us)
    times, key, owner = [], [], []
    counts = [lead] + [sweeps[k % len(sweeps)] for k in range(n - 1)] if with_sweeps else [0] * n
    for k in range(n):
        m = counts[k]
        if m:
            start = sample_us[k - 1] if k else sample_us[0] - KEYFRAME_US
            step = (sample_us[k] - start) / (m + 1)
            times += [int(start + step * (j + 1)) + offset for j in range(m)]
            key += [False] * m
            owner += [k] * m
        times.append(int(sample_us[k]) + offset)
        key.append(True)
        owner.append(k)
    return np.array(times, dtype=np.int64), np.array(key), np.array(owner)


def sample_data_records(spec: SceneSpec, tok: Tokens, sample_tokens: list[str], sample_us: np.ndarray,
                        cs_tokens: list[str], ego_pose) -> tuple[list[dict], list[dict], list[str]]:
    """(sample_data, ego_pose, camera keyframe file names) of the scene, one sensor chain after another."""
    sd_out, ego_out, key_files = [], [], []
    for (channel, modality, sweeps, lead, offset), cs_tok in zip(SENSORS, cs_tokens):
        ts, key, owner = sensor_times(sample_us, sweeps, lead, offset, spec.sweeps)
        tokens = tok.take(len(ts))
        trans, yaw = ego_pose(ts)
        rot = yaw_quaternions(yaw)
        w, h = CAMERA_SIZE if modality == "camera" else (0, 0)
        ext, fmt = {"camera": (".jpg", "jpg"), "lidar": (".pcd.bin", "pcd"), "radar": (".pcd", "pcd")}[modality]
        chain = []
        for i in range(len(ts)):
            folder = "samples" if key[i] else "sweeps"
            filename = f"{folder}/{channel}/{spec.logfile}__{channel}__{ts[i]}{ext}"
            chain.append({"token": tokens[i], "sample_token": sample_tokens[owner[i]], "ego_pose_token": tokens[i],
                          "calibrated_sensor_token": cs_tok, "timestamp": int(ts[i]), "fileformat": fmt,
                          "is_key_frame": bool(key[i]), "height": h, "width": w, "filename": filename})
            ego_out.append({"token": tokens[i], "timestamp": int(ts[i]), "rotation": rot[i].tolist(),
                            "translation": trans[i].tolist()})
            if key[i] and modality == "camera":
                key_files.append(filename)
        link(chain)
        sd_out += chain
    return sd_out, ego_out, key_files


def instance_draws(rng: np.random.Generator, n_inst: int, n_samples: int) -> dict[str, np.ndarray]:
    """Per instance: category, size, first keyframe, run length, placement and velocity."""
    cat = rng.choice(len(CATEGORY_NAMES), size=n_inst, p=_CAT_P)
    length = np.minimum(rng.integers(2, 35, size=n_inst), n_samples)
    first = rng.integers(0, n_samples - length + 1)
    dist = rng.uniform(4.0, 50.0, size=n_inst)
    bearing = rng.uniform(-np.pi, np.pi, size=n_inst)
    size = _CAT_SIZE[cat] * rng.uniform(0.9, 1.1, size=(n_inst, 3))
    names = np.array(CATEGORY_NAMES)[cat]
    moving = rng.random(n_inst) < 0.5
    pedestrian = np.char.startswith(names, "human.")
    static = np.char.startswith(names, "movable_object.") | np.char.startswith(names, "static_object.")
    speed = np.where(pedestrian, rng.uniform(0.5, 1.6, n_inst), rng.uniform(1.0, 12.0, n_inst))
    speed = np.where(moving & ~static, speed, 0.0)
    heading = rng.uniform(-np.pi, np.pi, size=n_inst)
    return {"cat": cat, "length": length, "first": first, "dist": dist, "bearing": bearing, "size": size,
            "speed": speed, "heading": heading, "rider": rng.random(n_inst) < 0.8}


def _attributes(name: str, speed: float, rider: bool) -> list[str]:
    parked = name.startswith("vehicle.") and speed == 0.0
    return [attribute_token(a) for a in attributes_for(name, speed, parked, rider)]


def annotation_records(rng: np.random.Generator, tok: Tokens, spec: SceneSpec, sample_tokens: list[str],
                       sample_us: np.ndarray, ego_pose, ego_velocity: np.ndarray) -> tuple[list[dict], list[dict]]:
    """(sample_annotation, instance) records of the scene; each instance's run is linked prev/next."""
    d = instance_draws(rng, spec.instances, len(sample_us))
    mid = d["first"] + d["length"] // 2
    ego_mid, ego_yaw = ego_pose(sample_us[mid])
    angle = ego_yaw + d["bearing"]
    place = ego_mid[:, :2] + d["dist"][:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    own = d["speed"][:, None] * np.column_stack([np.cos(d["heading"]), np.sin(d["heading"])])
    follows = (d["speed"] > 0) & np.char.startswith(np.array(CATEGORY_NAMES)[d["cat"]], "vehicle.")
    velocity = own + follows[:, None] * ego_velocity[None, :]
    yaw = np.where(np.hypot(*velocity.T) > 0.1, np.arctan2(velocity[:, 1], velocity[:, 0]), d["heading"])
    rotation = yaw_quaternions(yaw)
    inst_tokens = tok.take(spec.instances)
    ann_tokens = tok.take(int(d["length"].sum()))
    n_ann = len(ann_tokens)
    vis = rng.choice(4, size=n_ann, p=VISIBILITY_P) + 1
    lidar = rng.integers(0, 400, size=n_ann)
    radar = rng.integers(0, 8, size=n_ann)
    anns, instances, a = [], [], 0
    for i in range(spec.instances):
        name = CATEGORY_NAMES[d["cat"][i]]
        attrs = _attributes(name, float(d["speed"][i]), bool(d["rider"][i]))
        size = [round(float(v), 3) for v in d["size"][i]]
        rot = rotation[i].tolist()
        frames = np.arange(d["first"][i], d["first"][i] + d["length"][i])
        dt = (sample_us[frames] - sample_us[mid[i]]) / 1e6
        xy = place[i][None, :] + dt[:, None] * velocity[i][None, :]
        run = []
        for j, k in enumerate(frames):
            run.append({"token": ann_tokens[a], "sample_token": sample_tokens[k], "instance_token": inst_tokens[i],
                        "visibility_token": str(vis[a]), "attribute_tokens": attrs,
                        "translation": [float(xy[j, 0]), float(xy[j, 1]), size[2] / 2], "size": size,
                        "rotation": rot, "num_lidar_pts": int(lidar[a]), "num_radar_pts": int(radar[a])})
            a += 1
        link(run)
        anns += run
        instances.append({"token": inst_tokens[i], "category_token": category_token(name),
                          "nbr_annotations": len(run), "first_annotation_token": run[0]["token"],
                          "last_annotation_token": run[-1]["token"]})
    return anns, instances
