"""Where objects go and how they behave: placed where the ego will pass, each with a
behaviour: driving a lane (through or turning, sometimes changing lanes, buses stopping),
parked, towed, walking a sidewalk, crossing the road, standing, or static street works
(cones, barriers, a digger). Placement keeps footprints (and crossings) free of each other.
"""

from __future__ import annotations

import numpy as np

from nuscmot.synthetic.agents import ANNOTATION_RANGE, PREROLL, Agent, sample_size, uniform
from nuscmot.synthetic.layout import ARM_HEADING, ARM_ROAD, CROSSWALK, EXTENT, Layout, Route, arm_to_local


def _rect_corners(x: float, y: float, yaw: float, length: float, width: float) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    dx = np.array([1, 1, -1, -1]) * length / 2
    dy = np.array([1, -1, -1, 1]) * width / 2
    return np.stack([x + c * dx - s * dy, y + s * dx + c * dy], axis=1)


def rects_overlap(a: np.ndarray, b: np.ndarray) -> bool:
    """Separating-axis test of two convex quads (4, 2)."""
    for poly in (a, b):
        for i in range(4):
            edge = poly[(i + 1) % 4] - poly[i]
            axis = np.array([-edge[1], edge[0]])
            pa, pb = a @ axis, b @ axis
            if pa.max() <= pb.min() or pb.max() <= pa.min():
                return False
    return True


class Spawner:
    """Places objects near the ego's (free-flow) path until the target density is met."""

    def __init__(self, layout: Layout, ego: Agent, key_times: np.ndarray, rng: np.random.Generator):
        self.layout = layout
        self.rng = rng
        self.key_times = key_times
        self.ego_path = _free_flow(ego, key_times)[0]
        self.objects: list[Agent] = []
        self.footprints: list[np.ndarray] = [self._footprint(ego, -PREROLL, margin=4.0)]
        self.static_footprints: list[np.ndarray] = []
        self.reserved: list[np.ndarray] = []
        self.counts = np.zeros(len(key_times))

    # --- bookkeeping --------------------------------------------------------------------
    def _footprint(self, agent: Agent, t: float, margin: float = 0.6) -> np.ndarray:
        """Footprint at time t, lengthened by a speed-dependent safety gap."""
        xy, yaw = _free_flow(agent, np.array([t]))
        w, l, _ = agent.size
        return _rect_corners(xy[0, 0], xy[0, 1], yaw[0], l + margin + 1.2 * agent.v_init, w + 0.3)

    def in_range(self, agents: list[Agent]) -> np.ndarray:
        hits = np.zeros(len(self.key_times), dtype=int)
        for a in agents:
            xy, _ = _free_flow(a, self.key_times)
            hits += np.hypot(*(xy - self.ego_path).T) < ANNOTATION_RANGE
        return hits

    def try_add(self, agents: list[Agent], margin: float = 0.6) -> bool:
        """Add ``agents`` if they come within range of the ego and collide with nothing.

        An agent's ``reserve`` footprints (a pedestrian's crossing) are kept free of static
        objects placed before or after it.
        """
        hits = self.in_range(agents)
        if hits.sum() == 0:
            return False
        moving = [self._footprint(a, -PREROLL, margin) for a in agents]
        reserves = [r for a in agents for r in a.reserve]
        for a, fp in zip(agents, moving):
            if any(rects_overlap(fp, other) for other in self.footprints):
                return False
            if a.kind == "static" and any(rects_overlap(fp, r) for r in self.reserved):
                return False
        for r in reserves:
            if any(rects_overlap(r, fp) for fp in self.static_footprints):
                return False
        self.footprints += moving
        self.static_footprints += [fp for a, fp in zip(agents, moving) if a.kind == "static"]
        self.reserved += reserves
        self.objects += agents
        self.counts += hits
        return True

    def near_point(self, spread: float = 40.0) -> np.ndarray:
        k = int(self.rng.integers(0, len(self.key_times)))
        return self.ego_path[k] + self.rng.uniform(-spread, spread, size=2)

    def key_time(self) -> float:
        return float(self.key_times[int(self.rng.integers(0, len(self.key_times)))])

    # --- placement helpers ---------------------------------------------------------------
    def _route_start(self, route: Route, v_des: float, target: np.ndarray) -> float | None:
        """s0 such that the agent (free flow) passes near ``target`` at a random keyframe time."""
        t = self.key_time()
        s_t = route.project(target) + uniform(self.rng, -25.0, 25.0)
        s0 = s_t - v_des * (t + PREROLL)
        return s0 if 0.0 <= s0 < route.length - 5.0 else None

    def _arm(self) -> str:
        return str(self.rng.choice(["W", "E", "S", "N"], p=[0.3, 0.3, 0.2, 0.2]))

    def _kerb_slot(self, lateral_kind: str) -> tuple[str, float, float] | None:
        """(arm, along x in the arm frame, lateral) of a roadside spot near the ego, off the junction."""
        arm = self._arm()
        road = self.layout.road(ARM_ROAD[arm])
        other = self.layout.road(1 - ARM_ROAD[arm])
        target = self.near_point()
        ang = ARM_HEADING[arm]
        # target in the arm frame
        x = np.cos(ang) * target[0] + np.sin(ang) * target[1]
        if abs(x) < other.outer + 4.0 or abs(x) > EXTENT - 10:
            return None
        if lateral_kind == "parking":
            if road.parking <= 0:
                return None
            lat = road.parking_offset
        elif lateral_kind == "kerb":            # sidewalk, furniture zone next to the kerb
            lat = -(road.half + 0.45)
        elif lateral_kind == "stand":           # sidewalk, by the buildings
            lat = -(road.half + road.sidewalk - 0.45)
        else:
            raise ValueError(lateral_kind)
        return arm, float(x), lat

    def _static(self, category: str, arm: str, x: float, lat: float, yaw_rel: float, **kw) -> Agent:
        p = arm_to_local(arm, np.array([[x, lat]]))[0]
        size = kw.pop("size", None) or sample_size(self.rng, category, kw.get("subtype", ""),
                                                   kw.get("with_rider", False))
        return Agent(category, size, "static", pose=(float(p[0]), float(p[1]), ARM_HEADING[arm] + yaw_rel),
                     parked=True, **kw)

    # --- behaviours -----------------------------------------------------------------------
    def driving(self, category: str, subtype: str = "") -> list[Agent]:
        lay, rng = self.layout, self.rng
        arm = self._arm()
        road = lay.road(ARM_ROAD[arm])
        other = lay.road(1 - ARM_ROAD[arm])
        lane = int(rng.integers(0, road.lanes))
        turn = str(rng.choice(["straight", "left", "right"], p=[0.7, 0.15, 0.15]))
        if turn == "left" and lane != 0 or turn == "right" and lane != road.lanes - 1:
            turn = "straight"
        big = category in ("vehicle.bus.rigid", "vehicle.bus.bendy", "vehicle.trailer") or subtype == "tractor"
        lateral = road.lane_offset(lane)
        if category == "vehicle.motorcycle":
            lateral += uniform(rng, -0.6, 0.6)
        exit_lat = None
        if turn != "straight":
            exit_lat = other.lane_offset(0 if turn == "left" else other.lanes - 1)
        route = lay.lane_route(arm, lateral, turn, exit_lateral=exit_lat)
        change_route = None
        if road.lanes > 1 and turn == "straight" and not big and rng.random() < 0.25:
            change_route = lay.lane_route(arm, road.lane_offset(1 - lane), "straight")
        v_des = {"vehicle.car": (8.0, 14.0), "vehicle.truck": (7.0, 12.0), "vehicle.bus.rigid": (7.0, 11.0),
                 "vehicle.bus.bendy": (6.5, 10.0), "vehicle.motorcycle": (9.0, 15.0),
                 "vehicle.construction": (3.0, 6.0)}[category]
        v = uniform(rng, *v_des)
        s0 = self._route_start(route, v, self.near_point())
        if s0 is None:
            return []
        size = sample_size(rng, category, subtype, True)
        agent = Agent(category, size, "route", route=route, s0=s0, v_init=v * uniform(rng, 0.6, 1.0), v_des=v,
                      subtype=subtype, with_rider=category == "vehicle.motorcycle")
        if change_route is not None:
            agent.change_route = change_route
            agent.change_from = s0 + v * uniform(rng, 0.0, PREROLL + 15.0)
        if category.startswith("vehicle.bus") and lane == road.lanes - 1 and rng.random() < 0.4:
            agent.stops.append((s0 + v * uniform(rng, 4.0, 18.0), uniform(rng, 6.0, 14.0)))
        return [agent]

    def towing(self) -> list[Agent]:
        tractor = self.driving("vehicle.truck", "tractor")
        if not tractor:
            return []
        t = tractor[0]
        sub = "small" if self.rng.random() < 0.3 else "semi"
        size = sample_size(self.rng, "vehicle.trailer", sub)
        if sub == "small":   # small trailers hang behind pickups and cars
            t.category, t.subtype = "vehicle.truck", "pickup"
            t.size = sample_size(self.rng, "vehicle.truck", "pickup")
        gap = t.size[1] / 2 + 0.6 + size[1] / 2
        trailer = Agent("vehicle.trailer", size, "towed", route=t.route, s0=t.s0 - gap, tractor=t, tow_gap=gap,
                        subtype=sub, v_des=t.v_des, v_init=t.v_init)
        if trailer.s0 < 0:
            return []
        return [t, trailer]

    def parked_vehicle(self, category: str, subtype: str = "") -> list[Agent]:
        rng = self.rng
        use_lot = self.layout.lots and rng.random() < 0.4
        if use_lot:
            x0, x1, y0, y1 = self.layout.lots[int(rng.integers(0, len(self.layout.lots)))]
            size = sample_size(rng, category, subtype, False)
            x, y = uniform(rng, x0 + 3, x1 - 3), uniform(rng, y0 + 3, y1 - 3)
            yaw = float(rng.choice([0.0, np.pi / 2, np.pi, -np.pi / 2])) + uniform(rng, -0.08, 0.08)
            return [Agent(category, size, "static", pose=(x, y, yaw), parked=True, subtype=subtype)]
        slot = self._kerb_slot("parking")
        if slot is None:
            return []
        arm, x, lat = slot
        yaw_rel = uniform(rng, -0.04, 0.04)
        if category == "vehicle.motorcycle" and rng.random() < 0.6:
            yaw_rel += np.pi / 2 * float(rng.choice([-1, 1]))
        return [self._static(category, arm, x, lat + uniform(rng, -0.15, 0.15), yaw_rel, subtype=subtype)]

    def cyclist(self) -> list[Agent]:
        lay, rng = self.layout, self.rng
        arm = self._arm()
        road = lay.road(ARM_ROAD[arm])
        other = lay.road(1 - ARM_ROAD[arm])
        turn = "right" if rng.random() < 0.2 else "straight"
        exit_lat = other.bike_offset if turn == "right" else None
        route = lay.lane_route(arm, road.bike_offset + uniform(rng, -0.2, 0.2), turn, exit_lateral=exit_lat)
        v = uniform(rng, 3.0, 6.5)
        s0 = self._route_start(route, v, self.near_point())
        if s0 is None:
            return []
        size = sample_size(rng, "vehicle.bicycle", "", True)
        return [Agent("vehicle.bicycle", size, "route", route=route, s0=s0, v_init=v, v_des=v, with_rider=True)]

    def parked_bicycles(self) -> list[Agent]:
        slot = self._kerb_slot("kerb")
        if slot is None:
            return []
        arm, x, lat = slot
        n = int(self.rng.integers(1, 5))
        flip = float(self.rng.choice([0.0, np.pi]))
        return [self._static("vehicle.bicycle", arm, x + 1.9 * i, lat, flip + uniform(self.rng, -0.1, 0.1),
                             with_rider=False) for i in range(n)]

    def _walk_lateral(self, road, direction_flag: bool) -> float:
        lo, hi = 1.25, road.sidewalk - 1.3
        mid = lo + (hi - lo) * (0.3 if direction_flag else 0.7)
        return float(np.clip(mid + uniform(self.rng, -0.15, 0.15), lo, hi))

    def walker(self) -> list[Agent]:
        lay, rng = self.layout, self.rng
        road_index = int(rng.random() < 0.4)
        road = lay.road(road_index)
        side = int(rng.choice([-1, 1]))
        direction = int(rng.choice([-1, 1]))
        lateral = self._walk_lateral(road, direction * side > 0)
        route = lay.sidewalk_route(road_index, side, lateral, direction)
        v = uniform(rng, 1.0, 1.7)
        s0 = self._route_start(route, v, self.near_point())
        if s0 is None:
            return []
        adult = Agent("human.pedestrian.adult", sample_size(rng, "human.pedestrian.adult"), "route", route=route,
                      s0=s0, v_init=v, v_des=v)
        if rng.random() < 0.2:
            adult.stops.append((s0 + v * uniform(rng, 3.0, 20.0), uniform(rng, 2.0, 6.0)))
        out = [adult]
        if rng.random() < 0.18:   # a child walking beside
            child_route = lay.sidewalk_route(road_index, side, lateral + 0.65 * (1 if lateral < 1.8 else -1),
                                             direction)
            out.append(Agent("human.pedestrian.child", sample_size(rng, "human.pedestrian.child"), "route",
                             route=child_route, s0=s0, v_init=v, v_des=v, stops=list(adult.stops)))
        return out

    def crosser(self) -> list[Agent]:
        lay, rng = self.layout, self.rng
        road_index = int(rng.random() < 0.4)
        road = lay.road(road_index)
        other = lay.road(1 - road_index)
        target = self.near_point(30.0)
        along = target[0] if road_index == 0 else target[1]
        if lay.crosswalks and rng.random() < 0.6:
            along = float(np.sign(along) or 1.0) * (other.half + sum(CROSSWALK) / 2)
        elif abs(along) < other.outer + 6:
            return []
        side = int(rng.choice([-1, 1]))
        direction = int(rng.choice([-1, 1]))
        route = lay.crossing_route(road_index, along, side, self._walk_lateral(road, True),
                                   self._walk_lateral(road, False), uniform(rng, 2.0, 14.0), direction)
        v = uniform(rng, 1.1, 1.7)
        t = self.key_time()
        s0 = route.kerb_s - v * (t + PREROLL) + uniform(rng, -4.0, 4.0)
        if s0 < 0:
            return []
        agent = Agent("human.pedestrian.adult", sample_size(rng, "human.pedestrian.adult"), "route", route=route,
                      s0=s0, v_init=v, v_des=v)
        # keep the crossing free of parked things
        corridor = _rect_corners(along, 0.0, np.pi / 2, 2 * road.half + 3.0, 1.6)
        if road_index == 1:
            corridor = np.stack([-corridor[:, 1], corridor[:, 0]], axis=1)
        agent.reserve = [corridor]
        return [agent]

    def standing(self) -> list[Agent]:
        slot = self._kerb_slot("stand")
        if slot is None:
            return []
        arm, x, lat = slot
        n = int(self.rng.integers(1, 4))
        out = []
        for i in range(n):
            cat = "human.pedestrian.child" if i and self.rng.random() < 0.25 else "human.pedestrian.adult"
            a = self._static(cat, arm, x + 1.0 * i, lat + uniform(self.rng, -0.05, 0.05),
                             uniform(self.rng, -np.pi, np.pi))
            a.parked = False
            out.append(a)
        return out

    def cones(self) -> list[Agent]:
        road_kind = "parking" if self.rng.random() < 0.6 else "kerb"
        slot = self._kerb_slot(road_kind)
        if slot is None:
            return []
        arm, x, lat = slot
        n = int(self.rng.integers(3, 8))
        step = uniform(self.rng, 1.5, 3.0)
        return [self._static("movable_object.trafficcone", arm, x + step * i, lat + uniform(self.rng, -0.1, 0.1),
                             uniform(self.rng, -np.pi, np.pi)) for i in range(n)]

    def barriers(self) -> list[Agent]:
        slot = self._kerb_slot("kerb")
        if slot is None:
            return []
        arm, x, lat = slot
        n = int(self.rng.integers(2, 6))
        out, pos = [], x
        for _ in range(n):
            size = sample_size(self.rng, "movable_object.barrier")
            pos += size[0] / 2
            out.append(self._static("movable_object.barrier", arm, pos, lat, np.pi / 2, size=size))
            pos += size[0] / 2 + 0.1
        return out

    def works(self) -> list[Agent]:
        """A parked construction vehicle with cones around it."""
        got = self.parked_vehicle("vehicle.construction")
        if not got:
            return []
        digger = got[0]
        x, y, yaw = digger.pose
        w, l, _ = digger.size
        out = [digger]
        c, s = np.cos(yaw), np.sin(yaw)
        for dx in (-(l / 2 + 1.5), l / 2 + 1.5):
            for dy in (-(w / 2 + 0.3), (w / 2 + 0.3)):
                if self.rng.random() < 0.7:
                    size = sample_size(self.rng, "movable_object.trafficcone")
                    out.append(Agent("movable_object.trafficcone", size, "static",
                                     pose=(x + c * dx - s * dy, y + s * dx + c * dy, uniform(self.rng, -3, 3)),
                                     parked=True))
        return out


def _free_flow(agent: Agent, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions/headings at times ``t`` at constant desired speed (placement only)."""
    if agent.kind == "static":
        xy = np.tile(np.array(agent.pose[:2]), (len(t), 1))
        return xy, np.full(len(t), agent.pose[2])
    return agent.route.at(agent.s0 + agent.v_des * (t + PREROLL))
