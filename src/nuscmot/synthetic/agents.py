"""Who is in a scene: the ego car and the objects around it, with their sizes.

Objects use real nuScenes category names and sizes drawn around nuScenes' per-class
means; where they are placed and how they behave is :mod:`.spawner`'s, how many of which
:mod:`.population`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nuscmot.synthetic.layout import ARM_ROAD, Layout, Route

ANNOTATION_RANGE = 50.0   # m from the ego; annotations (as nuScenes' detection ranges) stop here
PREROLL = 8.0             # s of simulation before the first keyframe, so traffic has settled
EGO_SIZE = (1.73, 4.08, 1.56)   # Renault Zoe, nuScenes' car (w, l, h)
EGO_CENTER_X = 1.3        # box centre ahead of the ego frame origin (rear axle)

PEDESTRIANS = ("human.pedestrian.adult", "human.pedestrian.child")


@dataclass
class Agent:
    """One object (or the ego). Route agents move by arc length along ``route``."""

    category: str
    size: tuple[float, float, float]          # w, l, h (nuScenes order)
    kind: str                                 # "route" | "static" | "towed"
    route: Route | None = None
    s0: float = 0.0                           # arc length at the start of the simulation
    v_init: float = 0.0
    v_des: float = 0.0
    pose: tuple[float, float, float] = (0.0, 0.0, 0.0)   # static: local x, y, yaw
    tractor: "Agent | None" = None            # towed: the towing agent
    tow_gap: float = 0.0                      # towed: arc length behind the tractor
    stops: list[tuple[float, float]] = field(default_factory=list)   # (arc length, dwell s)
    subtype: str = ""                         # appearance variant (pickup, box truck, ...)
    with_rider: bool = False
    parked: bool = False
    is_ego: bool = False
    reserve: list[np.ndarray] = field(default_factory=list)   # placement only: keep-free areas
    change_route: Route | None = None         # lane change: the parallel path in the next lane
    change_from: float = np.inf               # ... tried from this arc length on, when the gap allows

    @property
    def is_pedestrian(self) -> bool:
        return self.category in PEDESTRIANS

    @property
    def is_vehicle(self) -> bool:
        return self.category.startswith("vehicle.")


def uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def sample_size(rng: np.random.Generator, category: str, subtype: str = "", with_rider: bool = True):
    """(w, l, h) in metres around nuScenes' per-category statistics."""
    if category == "vehicle.car":
        suv = rng.random() < 0.3
        return (uniform(rng, 1.75, 2.05), uniform(rng, 4.0, 5.2),
                uniform(rng, 1.65, 1.95) if suv else uniform(rng, 1.42, 1.62))
    if category == "vehicle.truck":
        if subtype == "pickup":
            return (uniform(rng, 1.95, 2.15), uniform(rng, 5.2, 6.0), uniform(rng, 1.8, 2.0))
        if subtype == "tractor":
            return (uniform(rng, 2.45, 2.6), uniform(rng, 5.8, 6.8), uniform(rng, 3.3, 3.9))
        return (uniform(rng, 2.3, 2.6), uniform(rng, 6.2, 9.5), uniform(rng, 2.8, 3.6))
    if category == "vehicle.bus.rigid":
        return (uniform(rng, 2.55, 2.9), uniform(rng, 10.5, 12.6), uniform(rng, 3.0, 3.6))
    if category == "vehicle.bus.bendy":
        return (uniform(rng, 2.55, 2.9), uniform(rng, 17.0, 18.6), uniform(rng, 3.0, 3.4))
    if category == "vehicle.trailer":
        if subtype == "small":
            return (uniform(rng, 1.6, 2.2), uniform(rng, 3.0, 5.0), uniform(rng, 1.3, 2.4))
        return (uniform(rng, 2.45, 2.6), uniform(rng, 8.0, 13.0), uniform(rng, 3.2, 4.0))
    if category == "vehicle.construction":
        return (uniform(rng, 2.5, 3.0), uniform(rng, 5.5, 7.5), uniform(rng, 2.9, 3.6))
    if category == "vehicle.motorcycle":
        return (uniform(rng, 0.7, 0.9), uniform(rng, 1.95, 2.3),
                uniform(rng, 1.45, 1.65) if with_rider else uniform(rng, 1.1, 1.3))
    if category == "vehicle.bicycle":
        return (uniform(rng, 0.55, 0.7), uniform(rng, 1.65, 1.85),
                uniform(rng, 1.6, 1.8) if with_rider else uniform(rng, 1.0, 1.15))
    if category == "human.pedestrian.adult":
        return (uniform(rng, 0.55, 0.78), uniform(rng, 0.55, 0.8), uniform(rng, 1.55, 1.92))
    if category == "human.pedestrian.child":
        return (uniform(rng, 0.42, 0.55), uniform(rng, 0.42, 0.55), uniform(rng, 1.0, 1.38))
    if category == "movable_object.barrier":
        return (uniform(rng, 1.9, 2.6), uniform(rng, 0.4, 0.6), uniform(rng, 0.9, 1.1))
    if category == "movable_object.trafficcone":
        s = uniform(rng, 0.36, 0.46)
        return (s, s, uniform(rng, 0.7, 1.0))
    raise ValueError(category)


def make_ego(layout: Layout, rng: np.random.Generator, duration: float) -> Agent:
    """The ego's drive: an approach, a lane, a manoeuvre, a speed; sometimes standing still."""
    arm = str(rng.choice(["W", "E", "S", "N"], p=[0.35, 0.35, 0.15, 0.15]))
    road = layout.road(ARM_ROAD[arm])
    other = layout.road(1 - ARM_ROAD[arm])
    lane = int(rng.integers(0, road.lanes))
    turn = str(rng.choice(["straight", "left", "right"], p=[0.55, 0.22, 0.23]))
    if turn == "left":
        lane = 0
    elif turn == "right":
        lane = road.lanes - 1
    exit_lat = None if turn == "straight" else other.lane_offset(0 if turn == "left" else other.lanes - 1)
    route = layout.lane_route(arm, road.lane_offset(lane), turn, exit_lateral=exit_lat)
    v = 0.0 if rng.random() < 0.08 else uniform(rng, 6.5, 12.5)
    v = min(v, 380.0 / max(duration, 1.0))   # long scenes: stay inside the modelled world
    # reach the stop line roughly a third of the way into the scene (free flow)
    to_stop = uniform(rng, 0.1, 0.7) * duration * max(v, 1.0) + 8.0
    s_at_0 = route.stop_s - to_stop
    s0 = s_at_0 - v * PREROLL
    return Agent("vehicle.car", EGO_SIZE, "route", route=route, s0=max(s0, 0.0), v_init=v, v_des=v,
                 is_ego=True, subtype=turn)
