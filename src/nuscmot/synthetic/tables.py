"""nuScenes table records: tokens, the fixed vocabularies, and per-scene records.

Tokens are 32 hex digits: sha1 of a stable key (the seed, the table and the record's
place in the dataset), so the same config always gives the same tokens. The fixed
vocabularies (category, attribute, visibility, sensor) do not depend on the seed, as in
nuScenes where they are shared by every release.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

TABLES = ("category", "attribute", "visibility", "instance", "sensor", "calibrated_sensor", "ego_pose", "log",
          "scene", "sample", "sample_data", "sample_annotation", "map")

# nuScenes' 23 object categories (lidarseg indices), with short descriptions.
CATEGORIES = (
    (1, "animal", "All animals, e.g. cats, rats, dogs, deer, birds."),
    (2, "human.pedestrian.adult", "Adult subcategory."),
    (3, "human.pedestrian.child", "Child subcategory."),
    (4, "human.pedestrian.construction_worker", "Construction worker"),
    (5, "human.pedestrian.personal_mobility", "A small electric or self-propelled vehicle."),
    (6, "human.pedestrian.police_officer", "Police officer."),
    (7, "human.pedestrian.stroller", "Strollers."),
    (8, "human.pedestrian.wheelchair", "Wheelchairs."),
    (9, "movable_object.barrier", "Temporary road barrier placed in the scene in order to redirect traffic."),
    (10, "movable_object.debris", "Movable object that is left on the driveable surface."),
    (11, "movable_object.pushable_pullable", "Objects that a pedestrian may push or pull."),
    (12, "movable_object.trafficcone", "All types of traffic cone."),
    (13, "static_object.bicycle_rack", "Area or device intended to park or secure the bicycles in a row."),
    (14, "vehicle.bicycle", "Human or electric powered 2-wheeled vehicle designed to travel at lower speeds."),
    (15, "vehicle.bus.bendy", "Bendy bus subcategory. Annotate each section of the bendy bus individually."),
    (16, "vehicle.bus.rigid", "Rigid bus subcategory."),
    (17, "vehicle.car", "Vehicle designed primarily for personal use, e.g. sedans, hatch-backs, wagons, vans."),
    (18, "vehicle.construction", "Vehicles primarily designed for construction. Typically very slow moving."),
    (19, "vehicle.emergency.ambulance", "All types of ambulances."),
    (20, "vehicle.emergency.police", "All types of police vehicles."),
    (21, "vehicle.motorcycle", "Gasoline or electric powered 2-wheeled vehicle designed to move rapidly."),
    (22, "vehicle.trailer", "Any vehicle trailer, both for trucks, cars and bikes."),
    (23, "vehicle.truck", "Vehicles primarily designed to haul cargo including pick-ups, lorrys, trucks."),
)
ATTRIBUTES = (
    ("vehicle.moving", "Vehicle is moving."),
    ("vehicle.stopped", "Vehicle, with a driver/rider in/on it, is currently stationary but has an intent to move."),
    ("vehicle.parked", "Vehicle is stationary (usually for longer duration) with no immediate intent to move."),
    ("cycle.with_rider", "There is a rider on the bicycle or motorcycle."),
    ("cycle.without_rider", "There is NO rider on the bicycle or motorcycle."),
    ("pedestrian.sitting_lying_down", "The human is sitting or lying down."),
    ("pedestrian.standing", "The human is standing."),
    ("pedestrian.moving", "The human is moving."),
)
VISIBILITY = (
    ("1", "v0-40", "visibility of whole object is between 0 and 40%"),
    ("2", "v40-60", "visibility of whole object is between 40 and 60%"),
    ("3", "v60-80", "visibility of whole object is between 60 and 80%"),
    ("4", "v80-100", "visibility of whole object is between 80 and 100%"),
)


def fixed_token(*key) -> str:
    """Seed-independent token (vocabulary tables)."""
    return hashlib.sha1("/".join(str(k) for k in key).encode()).hexdigest()[:32]


def token(seed: int, *key) -> str:
    """Dataset token: sha1 of the seed and a stable key."""
    return fixed_token("synth", seed, *key)


def category_token(name: str) -> str:
    return fixed_token("category", name)


def attribute_token(name: str) -> str:
    return fixed_token("attribute", name)


def sensor_token(channel: str) -> str:
    return fixed_token("sensor", channel)


def vocabulary_tables(channels) -> dict[str, list[dict]]:
    return {
        "category": [{"token": category_token(n), "name": n, "description": d, "index": i} for i, n, d in CATEGORIES],
        "attribute": [{"token": attribute_token(n), "name": n, "description": d} for n, d in ATTRIBUTES],
        "visibility": [{"token": t, "level": lvl, "description": d} for t, lvl, d in VISIBILITY],
        "sensor": [{"token": sensor_token(c), "channel": c, "modality": "camera"} for c in channels],
    }


def visibility_level(fraction: float) -> str:
    """nuScenes visibility token for a visible fraction: 1 = 0-40 %, 2 = 40-60 %, 3 = 60-80 %, 4 = 80-100 %."""
    if fraction < 0.4:
        return "1"
    if fraction < 0.6:
        return "2"
    if fraction < 0.8:
        return "3"
    return "4"


def attributes_for(category: str, speed: float, parked: bool, with_rider: bool) -> list[str]:
    """nuScenes attribute names of an annotation."""
    if category in ("vehicle.bicycle", "vehicle.motorcycle"):
        return ["cycle.with_rider" if with_rider else "cycle.without_rider"]
    if category.startswith("vehicle."):
        if parked:
            return ["vehicle.parked"]
        return ["vehicle.moving" if speed > 0.5 else "vehicle.stopped"]
    if category.startswith("human.pedestrian"):
        return ["pedestrian.moving" if speed > 0.3 else "pedestrian.standing"]
    return []


def log_name(timestamp_us: int, vehicle: str) -> str:
    """nuScenes-style log file name, e.g. ``n015-2018-07-24-11-22-45+0000``."""
    t = datetime.fromtimestamp(timestamp_us / 1e6, tz=timezone.utc)
    return f"{vehicle}-{t:%Y-%m-%d-%H-%M-%S}+0000"


def date_captured(timestamp_us: int) -> str:
    return f"{datetime.fromtimestamp(timestamp_us / 1e6, tz=timezone.utc):%Y-%m-%d}"


def link(records: list[dict]) -> None:
    """Fill ``prev``/``next`` of records already in order."""
    for i, rec in enumerate(records):
        rec["prev"] = records[i - 1]["token"] if i else ""
        rec["next"] = records[i + 1]["token"] if i + 1 < len(records) else ""
