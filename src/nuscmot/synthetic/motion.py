"""Traffic simulation at 10 Hz: car following (IDM), traffic lights, yielding, pedestrians.

Every route agent (the ego included) moves along its path with the Intelligent Driver
Model; its leader is the nearest object in a corridor ahead of it (vehicles, crossing
pedestrians, a queue, a cone line), or a virtual stop: a red light at the stop line, a
bus stop, a pedestrian's pause or a pedestrian waiting at the kerb for a gap in traffic.
States are kept at the 2 Hz keyframes (and the ego at every step, for camera times).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nuscmot.synthetic.agents import EGO_CENTER_X, PREROLL, Agent
from nuscmot.synthetic.layout import Layout, Route

DT = 0.1            # s per simulation step
KEYFRAME_DT = 0.5   # s between keyframes (2 Hz)
LANE_CHANGE_TIME = 4.0
_STEPS_PER_KEY = 5


@dataclass(frozen=True)
class Driver:
    """IDM parameters: max acceleration, comfortable braking, time headway, jam gap, look-ahead."""

    accel: float
    brake: float
    headway: float
    jam: float
    lookahead: float
    margin: float


DRIVERS = {
    "car": Driver(1.8, 2.5, 1.3, 2.0, 60.0, 0.3),
    "heavy": Driver(1.0, 2.0, 1.6, 2.5, 60.0, 0.3),
    "cycle": Driver(1.0, 2.0, 1.0, 1.5, 40.0, 0.25),
    "walker": Driver(1.0, 1.5, 0.6, 0.4, 6.0, 0.05),
}


def driver_of(agent: Agent) -> Driver:
    if agent.is_pedestrian:
        return DRIVERS["walker"]
    if agent.category == "vehicle.bicycle":
        return DRIVERS["cycle"]
    if agent.category in ("vehicle.car", "vehicle.motorcycle") or agent.subtype == "pickup":
        return DRIVERS["car"]
    return DRIVERS["heavy"]


@dataclass
class Trajectories:
    """Agent states at keyframes (index 0 is the ego) and the ego at every simulation step."""

    key_times: np.ndarray      # (K,) s after the first keyframe
    xy: np.ndarray             # (N, K, 2) box centres, scene-local
    yaw: np.ndarray            # (N, K)
    speed: np.ndarray          # (N, K) m/s
    walked: np.ndarray         # (N, K) arc length travelled (gait phase)
    ego_times: np.ndarray      # (S,)
    ego_xy: np.ndarray         # (S, 2) ego frame origin (rear axle), scene-local
    ego_yaw: np.ndarray        # (S,)

    def ego_pose(self, t: float) -> tuple[np.ndarray, float]:
        """Ego frame origin and heading at time ``t`` (linear in between steps)."""
        x = np.interp(t, self.ego_times, self.ego_xy[:, 0])
        y = np.interp(t, self.ego_times, self.ego_xy[:, 1])
        yaw = np.interp(t, self.ego_times, np.unwrap(self.ego_yaw))
        return np.array([x, y]), float(yaw)


class RouteTable:
    """Every route resampled at a uniform arc-length step, for lookups of many agents at once."""

    def __init__(self, routes: list[Route], ds: float = 0.25):
        self.ds = ds
        n = max(int(np.ceil(r.length / ds)) + 2 for r in routes)
        self.x = np.zeros((len(routes), n))
        self.y = np.zeros((len(routes), n))
        self.h = np.zeros((len(routes), n))
        self.length = np.array([r.length for r in routes])
        for i, r in enumerate(routes):
            s = np.minimum(np.arange(n) * ds, r.length)
            self.x[i] = np.interp(s, r.s, r.points[:, 0])
            self.y[i] = np.interp(s, r.s, r.points[:, 1])
            self.h[i] = np.interp(s, r.s, r.heading)

    def at(self, rows: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        f = np.clip(s, 0.0, self.length[rows]) / self.ds
        i0 = np.minimum(f.astype(int), self.x.shape[1] - 2)
        t = f - i0
        x = self.x[rows, i0] * (1 - t) + self.x[rows, i0 + 1] * t
        y = self.y[rows, i0] * (1 - t) + self.y[rows, i0 + 1] * t
        h = self.h[rows, i0] * (1 - t) + self.h[rows, i0 + 1] * t
        return np.stack([x, y], axis=-1), h


def simulate(layout: Layout, agents: list[Agent], n_keyframes: int, tail: float = 0.1) -> Trajectories:
    """Run the scene from ``-PREROLL`` s to the last keyframe (+ ``tail`` s for camera delays)."""
    n = len(agents)
    pre = int(round(PREROLL / DT))
    n_steps = pre + (n_keyframes - 1) * _STEPS_PER_KEY + int(np.ceil(tail / DT)) + 1
    times = (np.arange(n_steps) - pre) * DT

    # routes: each agent's own, and the target lane of a planned lane change
    route_list: list[Route] = []
    row = np.full(n, -1)
    change_row = np.full(n, -1)
    for i, a in enumerate(agents):
        if a.route is not None and a.kind == "route":
            row[i] = len(route_list)
            route_list.append(a.route)
            if a.change_route is not None:
                change_row[i] = len(route_list)
                route_list.append(a.change_route)
    index = {id(a): i for i, a in enumerate(agents)}
    tractor = np.array([index[id(a.tractor)] if a.tractor is not None else -1 for a in agents], dtype=int)
    towed = np.flatnonzero(tractor >= 0)
    table = RouteTable(route_list) if route_list else None

    st = _State(layout, agents, row, change_row, route_list)
    keys = pre + np.arange(n_keyframes) * _STEPS_PER_KEY
    key_xy = np.zeros((n, n_keyframes, 2))
    key_yaw = np.zeros((n, n_keyframes))
    key_v = np.zeros((n, n_keyframes))
    key_s = np.zeros((n, n_keyframes))
    ego_xy = np.zeros((n_steps, 2))
    ego_yaw = np.zeros(n_steps)
    pos = np.zeros((n, 2))
    yaw = np.zeros(n)
    for i, a in enumerate(agents):
        if a.kind == "static":
            pos[i], yaw[i] = a.pose[:2], a.pose[2]
    movers = st.movers
    k_next = 0
    for step, t in enumerate(times):
        speed_now = st.v.copy()
        if len(movers):
            p, h = table.at(st.row[movers], st.s[movers])
            changing = np.flatnonzero(st.mix[movers] > 0)
            if len(changing):
                mi = movers[changing]
                pb, _ = table.at(st.change_row[mi], st.s[mi])
                m = st.mix[mi]
                b = (m * m * (3.0 - 2.0 * m))[:, None]
                p[changing] = (1.0 - b) * p[changing] + b * pb
                h[changing] += np.arctan2(st.shift[mi] * 6.0 * m * (1.0 - m) / LANE_CHANGE_TIME,
                                          np.maximum(st.v[mi], 0.5))
            pos[movers], yaw[movers] = p, h
        if len(towed):
            j = tractor[towed]
            st.s[towed] = np.maximum(st.s[j] - st.tow_gap[towed], 0.0)
            pos[towed], yaw[towed] = table.at(st.row[j], st.s[towed])
            speed_now[towed] = st.v[j]
        ego_xy[step] = pos[0] - EGO_CENTER_X * np.array([np.cos(yaw[0]), np.sin(yaw[0])])
        ego_yaw[step] = yaw[0]
        if k_next < n_keyframes and step == keys[k_next]:
            key_xy[:, k_next] = pos
            key_yaw[:, k_next] = yaw
            key_v[:, k_next] = speed_now
            key_s[:, k_next] = st.s
            k_next += 1
        if step == n_steps - 1:
            break
        st.step(t, pos, yaw, speed_now, table)
    return Trajectories(
        key_times=np.arange(n_keyframes) * KEYFRAME_DT,
        xy=key_xy,
        yaw=key_yaw,
        speed=key_v,
        walked=key_s,
        ego_times=times,
        ego_xy=ego_xy,
        ego_yaw=ego_yaw,
    )


class _State:
    """Arc lengths, speeds and plans of all agents; ``step`` advances them by DT."""

    def __init__(self, layout: Layout, agents: list[Agent], row, change_row, routes: list[Route]):
        n = len(agents)
        self.layout = layout
        self.agents = agents
        self.row, self.change_row = row, change_row
        self.routes = routes
        self.movers = np.flatnonzero(np.array([a.kind == "route" for a in agents], dtype=bool))
        size = np.array([a.size for a in agents], dtype=np.float64)
        self.half_w, self.half_l = size[:, 0] / 2, size[:, 1] / 2
        self.static = np.array([a.kind == "static" for a in agents], dtype=bool)
        self.ped = np.array([a.is_pedestrian for a in agents], dtype=bool)
        self.vehicle = np.array([a.is_vehicle for a in agents], dtype=bool)
        drivers = [driver_of(a) for a in agents]
        for name in ("accel", "brake", "headway", "jam", "lookahead", "margin"):
            setattr(self, name, np.array([getattr(d, name) for d in drivers]))
        self.v_des = np.array([a.v_des for a in agents], dtype=np.float64)
        self.s = np.array([a.s0 for a in agents], dtype=np.float64)
        self.v = np.array([a.v_init if a.kind == "route" else 0.0 for a in agents], dtype=np.float64)
        self.tow_gap = np.array([a.tow_gap for a in agents])
        self.stops = [list(a.stops) for a in agents]
        self.dwell = np.zeros(n)
        self.change_from = np.array([a.change_from for a in agents], dtype=np.float64)
        self.mix = np.zeros(n)
        self.shift = np.zeros(n)
        for i, a in enumerate(agents):
            if a.change_route is not None:
                pa, ha = a.route.at(a.change_from)
                pb, _ = a.change_route.at(a.change_from)
                self.shift[i] = float((pb - pa) @ np.array([-np.sin(ha), np.cos(ha)]))
        m = self.movers
        self.stop_line = np.array([a.route.stop_s if not a.is_pedestrian else np.inf for a in
                                   (agents[i] for i in m)])
        self.road = np.array([max(agents[i].route.road, 0) for i in m])
        self.left_turn = np.array([agents[i].route.turn == "left" for i in m], dtype=bool)
        self.approach = np.array([agents[i].route.approach_heading for i in m])
        self.kerb = np.array([agents[i].route.kerb_s for i in m])

    def _start_lane_changes(self, pos: np.ndarray, table: RouteTable) -> None:
        m = self.movers
        active = m[(self.mix[m] > 0)]
        self.mix[active] = np.minimum(1.0, self.mix[active] + DT / LANE_CHANGE_TIME)
        done = active[self.mix[active] >= 1.0]
        if len(done):
            self.row[done] = self.change_row[done]
            self.change_row[done] = -1
            self.mix[done] = 0.0
        ready = m[(self.change_row[m] >= 0) & (self.mix[m] == 0) & (self.s[m] >= self.change_from[m])]
        for i in ready:
            pb, hb = table.at(np.array([self.change_row[i]]), np.array([self.s[i]]))
            rel = pos - pb[0]
            lon = rel[:, 0] * np.cos(hb[0]) + rel[:, 1] * np.sin(hb[0])
            lat = -rel[:, 0] * np.sin(hb[0]) + rel[:, 1] * np.cos(hb[0])
            blocked = (np.abs(lat) < 2.2) & (lon > -14.0) & (lon < 18.0)
            blocked[i] = False
            if not blocked.any():
                self.mix[i] = DT / LANE_CHANGE_TIME

    def step(self, t: float, pos: np.ndarray, yaw: np.ndarray, v: np.ndarray, table: RouteTable) -> None:
        m = self.movers
        if not len(m):
            return
        self._start_lane_changes(pos, table)
        gap, v_lead = self._leaders(pos, yaw, v)
        gap = gap.copy()
        v_lead = v_lead.copy()
        # virtual standing obstacles: red lights, planned stops, left-turn yields, kerb waits
        sig = self.layout.signals
        green = np.array([bool(sig.green(0, t)), bool(sig.green(1, t))])
        amber = np.array([bool(sig.green(0, t - sig.amber)), bool(sig.green(1, t - sig.amber))]) & ~green
        front = self.s[m] + self.half_l[m]
        vm = v[m]
        red = (front < self.stop_line + 0.5) & ~green[self.road]
        red &= ~(amber[self.road] & (self.stop_line - front < vm ** 2 / 6.0))
        virtual = np.where(red, self.stop_line - front, np.inf)
        for r, i in enumerate(m):
            if self.stops[i]:
                virtual[r] = min(virtual[r], self.stops[i][0][0] - self.s[i] + self.jam[i])
        turning = np.flatnonzero(self.left_turn & (front > self.stop_line - 10.0) & (front < self.stop_line + 7.0))
        for r in turning:
            if _oncoming(self.vehicle, pos, yaw, v, self.approach[r]):
                virtual[r] = min(virtual[r], self.stop_line[r] + 7.0 - front[r])
        sm = self.s[m]
        waiting = np.flatnonzero((sm > self.kerb - 1.5) & (sm < self.kerb))
        for r in waiting:
            if _traffic_coming(self.vehicle, pos, yaw, v, m[r]):
                virtual[r] = min(virtual[r], self.kerb[r] - sm[r] + self.jam[m[r]] - 0.2)
        use = virtual < gap
        gap = np.where(use, virtual, gap)
        v_lead = np.where(use, 0.0, v_lead)
        acc = _idm(vm, self.v_des[m], gap, vm - v_lead, self.accel[m], self.brake[m], self.headway[m], self.jam[m])
        v_new = np.where(self.v_des[m] > 0.0, np.maximum(0.0, vm + acc * DT), 0.0)
        self.v[m] = v_new
        self.s[m] += v_new * DT
        for r, i in enumerate(m):
            if not self.stops[i]:
                continue
            s_stop, dur = self.stops[i][0]
            if abs(s_stop - self.s[i]) < 1.5 and self.v[i] < 0.3:
                self.dwell[i] += DT
                if self.dwell[i] >= dur:
                    self.stops[i].pop(0)
                    self.dwell[i] = 0.0
            elif self.s[i] > s_stop + 3.0:
                self.stops[i].pop(0)

    def _leaders(self, pos, yaw, v):
        """Gap to and speed of each mover's leader (inf gap: none)."""
        m = self.movers
        ped, static = self.ped, self.static
        half_l, half_w = self.half_l, self.half_w
        c, sn = np.cos(yaw), np.sin(yaw)
        dx = np.array([1, 1, -1, -1])[None, :] * half_l[:, None]
        dy = np.array([1, -1, -1, 1])[None, :] * half_w[:, None]
        corners = np.stack([pos[:, 0:1] + c[:, None] * dx - sn[:, None] * dy,
                            pos[:, 1:2] + sn[:, None] * dx + c[:, None] * dy], axis=-1)     # (N, 4, 2)
        rel = corners[None] - pos[m][:, None, None, :]            # (M, N, 4, 2)
        lon = rel[..., 0] * c[m][:, None, None] + rel[..., 1] * sn[m][:, None, None]
        lat = -rel[..., 0] * sn[m][:, None, None] + rel[..., 1] * c[m][:, None, None]
        lon_min, lon_max = lon.min(-1), lon.max(-1)
        lat_min, lat_max = lat.min(-1), lat.max(-1)
        hl, hw = half_l[m][:, None], half_w[m][:, None]
        margin = self.margin[m][:, None]
        # a vehicle also watches where walkers will be in 2 s
        drift = (v[None, :] * np.sin(yaw[None, :] - yaw[m][:, None]) * 2.0) * (ped[None, :] & ~ped[m][:, None])
        lat_min = np.minimum(lat_min, lat_min + drift)
        lat_max = np.maximum(lat_max, lat_max + drift)
        lo = np.broadcast_to(-(hw + margin), lat_min.shape).copy()
        hi = np.broadcast_to(hw + margin, lat_min.shape).copy()
        behind = np.broadcast_to(hl - 0.3, lat_min.shape).copy()
        # while changing lanes, watch the target lane too, alongside included
        ch = np.flatnonzero(self.mix[m] > 0)
        if len(ch):
            sh = self.shift[m[ch]][:, None]
            hi[ch] += np.maximum(sh, 0.0)
            lo[ch] += np.minimum(sh, 0.0)
            behind[ch] = -hl[ch] + 0.5
        ahead = (lon_min > np.minimum(behind, hl - 1.5)) & (lon_max > hl) & (lon_min < hl + self.lookahead[m][:, None])
        cand = ahead & (lat_max > lo) & (lat_min < hi)
        cand[np.arange(len(m)), m] = False
        cos_rel = np.cos(yaw[None, :] - yaw[m][:, None])
        heed_ped = (~static)[None, :] & ((~ped)[None, :] | (cos_rel > 0.3))
        heed_veh = ~(ped & static)[None, :]
        cand &= np.where(ped[m][:, None], heed_ped, heed_veh)
        gap = np.where(cand, np.maximum(lon_min - hl, 0.1), np.inf)
        # mutual standoffs: a vehicle yields to a pedestrian, otherwise the one farther away yields
        gm = gap[:, m]                                   # (M, M)
        mutual = np.isfinite(gm) & np.isfinite(gm.T)
        if mutual.any():
            pi, pj = ped[m][:, None], ped[m][None, :]
            order = np.arange(len(m))
            closer = (gm < gm.T) | ((gm == gm.T) & (order[:, None] < order[None, :]))
            go = np.where(pi != pj, np.broadcast_to(pi, gm.shape), closer) & mutual
            rr, cc = np.nonzero(go)
            gap[rr, m[cc]] = np.inf
        lead = np.argmin(gap, axis=1)
        lead_gap = gap[np.arange(len(m)), lead]
        lead_v = np.where(np.isfinite(lead_gap), v[lead] * np.cos(yaw[lead] - yaw[m]), 0.0)
        return lead_gap, lead_v


def _traffic_coming(vehicle: np.ndarray, pos, yaw, v, i) -> bool:
    """True if a moving vehicle would reach pedestrian ``i``'s crossing within ~5 s."""
    j = np.flatnonzero(vehicle & (v >= 1.0))
    if not len(j):
        return False
    rel = pos[i] - pos[j]
    along = rel[:, 0] * np.cos(yaw[j]) + rel[:, 1] * np.sin(yaw[j])
    across = -rel[:, 0] * np.sin(yaw[j]) + rel[:, 1] * np.cos(yaw[j])
    return bool(((along > 0.0) & (along < v[j] * 5.0 + 8.0) & (np.abs(across) < 12.0)).any())


def _oncoming(vehicle: np.ndarray, pos, yaw, v, heading: float) -> bool:
    """True if a vehicle from the opposite arm will cross a left turn's path within ~4 s."""
    ch, sh = np.cos(heading), np.sin(heading)
    j = np.flatnonzero(vehicle & (v >= 1.0) & (np.cos(yaw - heading) <= -0.7))
    if not len(j):
        return False
    # distance the oncoming vehicle still has to the junction centre (it drives along -heading)
    to_centre = pos[j, 0] * ch + pos[j, 1] * sh
    return bool(((to_centre > 0.0) & (to_centre < v[j] * 4.0 + 12.0)).any())


def _idm(v, v0, gap, dv, accel, brake, headway, jam):
    """Intelligent Driver Model acceleration (vectorised), clamped to [-9, accel]."""
    free = 1.0 - (v / np.maximum(v0, 0.1)) ** 4
    s_star = jam + np.maximum(0.0, v * headway + v * dv / (2.0 * np.sqrt(accel * brake)))
    with np.errstate(invalid="ignore"):
        inter = np.where(np.isfinite(gap), (s_star / np.maximum(gap, 0.05)) ** 2, 0.0)
    acc = accel * (free - inter)
    acc = np.where(np.isfinite(gap) & (gap <= 0.05), -9.0, acc)
    return np.clip(acc, -9.0, accel)
