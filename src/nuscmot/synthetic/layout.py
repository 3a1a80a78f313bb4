"""The static world of one scene: two crossing roads, sidewalks, buildings, poles, a map mask.

Coordinates are scene-local (metres; the intersection at the origin, the main road along
x, the cross road along y); :class:`Layout` maps them to the log's global frame. Traffic
is right-hand. An *arm* is one approach to the intersection: ``W`` (driving +x), ``E``
(-x), ``S`` (+y), ``N`` (-y). In an arm's frame the driver heads +x towards the
intersection at x = 0 and the driving lanes lie at negative y.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

ARM_HEADING = {"W": 0.0, "S": np.pi / 2, "E": np.pi, "N": -np.pi / 2}
ARM_ROAD = {"W": 0, "E": 0, "S": 1, "N": 1}   # 0: main road (along x), 1: cross road (along y)
TURN_DELTA = {"straight": 0.0, "left": np.pi / 2, "right": -np.pi / 2}
STOP_LINE = 5.0         # m before the crossing road's kerb; crosswalks lie between it and the kerb
CROSSWALK = (1.0, 4.0)  # m from the crossing road's kerb
EXTENT = 300.0          # half size of the modelled world (m): buildings, props
MAP_EXTENT = 260.0      # largest half size of the map mask around the junction (the ego stays within ~200 m)
MAP_RESOLUTION = 0.1    # m per pixel, the devkit's MapMask default


@dataclass(frozen=True)
class Road:
    """A two-way road: per direction ``lanes`` driving lanes, then a bike lane and a parking strip."""

    lanes: int
    lane_width: float
    bike_lane: float
    parking: float
    sidewalk: float

    @property
    def drive_half(self) -> float:
        return self.lanes * self.lane_width

    @property
    def half(self) -> float:
        """Kerb offset from the centre line."""
        return self.drive_half + self.bike_lane + self.parking

    @property
    def outer(self) -> float:
        """Outer edge of the sidewalk."""
        return self.half + self.sidewalk

    def lane_offset(self, lane: int) -> float:
        """Lateral offset (arm frame, negative = right) of driving lane ``lane`` (0 = next to the centre)."""
        return -(lane + 0.5) * self.lane_width

    @property
    def bike_offset(self) -> float:
        return -(self.drive_half + (self.bike_lane / 2 if self.bike_lane else -0.9))

    @property
    def parking_offset(self) -> float:
        return -(self.drive_half + self.bike_lane + self.parking / 2)


@dataclass(frozen=True)
class Signals:
    """Fixed-time traffic light: the main road is green for ``green_main`` s of each cycle."""

    cycle: float
    green_main: float
    amber: float
    offset: float

    def green(self, road: int, t: np.ndarray | float) -> np.ndarray:
        """True where approaches on ``road`` (0 main, 1 cross) may enter the intersection at time t."""
        phase = (np.asarray(t, dtype=np.float64) + self.offset) % self.cycle
        if road == 0:
            return phase < self.green_main
        start = self.green_main + self.amber + 1.0
        return (phase >= start) & (phase < self.cycle - self.amber - 1.0)


@dataclass
class Route:
    """A path as a dense polyline with arc length; ``stop_s`` is its stop line (inf if none)."""

    points: np.ndarray
    road: int = -1
    stop_s: float = np.inf
    kerb_s: float = np.inf        # pedestrians: where the path leaves the sidewalk
    turn: str = "straight"
    approach_heading: float = 0.0
    s: np.ndarray = field(init=False, repr=False)
    heading: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        seg = np.diff(self.points, axis=0)
        lengths = np.hypot(seg[:, 0], seg[:, 1])
        keep = np.concatenate([[True], lengths > 1e-6])
        self.points = self.points[keep]
        seg = np.diff(self.points, axis=0)
        self.s = np.concatenate([[0.0], np.cumsum(np.hypot(seg[:, 0], seg[:, 1]))])
        head = np.arctan2(seg[:, 1], seg[:, 0])
        self.heading = np.unwrap(np.concatenate([head, head[-1:]]))

    @property
    def length(self) -> float:
        return float(self.s[-1])

    def at(self, s) -> tuple[np.ndarray, np.ndarray]:
        """Positions (..., 2) and headings at arc length(s) ``s`` (clamped to the route)."""
        s = np.clip(np.asarray(s, dtype=np.float64), 0.0, self.length)
        x = np.interp(s, self.s, self.points[:, 0])
        y = np.interp(s, self.s, self.points[:, 1])
        # heading of the segment containing s (smoothly blended near vertices)
        h = np.interp(s, self.s, self.heading)
        return np.stack([x, y], axis=-1), h

    def project(self, xy: np.ndarray) -> float:
        """Arc length of the route point nearest to ``xy``."""
        d = np.hypot(self.points[:, 0] - xy[0], self.points[:, 1] - xy[1])
        return float(self.s[int(np.argmin(d))])


def arm_to_local(arm: str, pts: np.ndarray) -> np.ndarray:
    a = ARM_HEADING[arm]
    c, s = np.cos(a), np.sin(a)
    return np.stack([c * pts[:, 0] - s * pts[:, 1], s * pts[:, 0] + c * pts[:, 1]], axis=1)


def _bezier(p0, h0, p1, h1, n=40) -> np.ndarray:
    d = np.hypot(*(p1 - p0))
    k = 0.5 * d
    c0 = p0 + k * np.array([np.cos(h0), np.sin(h0)])
    c1 = p1 - k * np.array([np.cos(h1), np.sin(h1)])
    t = np.linspace(0.0, 1.0, n)[:, None]
    return (1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * c0 + 3 * (1 - t) * t**2 * c1 + t**3 * p1


@dataclass(frozen=True)
class Building:
    center: tuple[float, float]
    yaw: float
    length: float        # along the street it faces
    depth: float
    height: float
    style: int


@dataclass(frozen=True)
class Prop:
    """Street furniture: a lamp post or a tree (never annotated, but it occludes)."""

    kind: str            # "lamp" | "tree"
    xy: tuple[float, float]
    yaw: float
    height: float


@dataclass
class Layout:
    """Roads, signals and scenery of one scene, plus its placement in the global frame."""

    main: Road
    cross: Road
    signals: Signals
    margin: np.ndarray           # global position of the junction = margin + map_extent (x and y)
    theta: float                 # global heading of the local x axis
    crosswalks: bool
    verge: int                   # 0: paved plaza, 1: grass
    buildings: list[Building] = field(default_factory=list)
    props: list[Prop] = field(default_factory=list)
    lots: list[tuple[float, float, float, float]] = field(default_factory=list)  # x0, x1, y0, y1
    map_extent: float = MAP_EXTENT

    @property
    def origin(self) -> np.ndarray:
        """Global position of the junction; the map mask spans global [0, origin + map_extent]."""
        return np.round(self.margin + self.map_extent, 3)

    def fit_map(self, reach: float) -> None:
        """Shrink the map (and move the global frame) to cover ``reach`` m around the junction."""
        self.map_extent = float(np.clip(np.ceil(reach), 60.0, MAP_EXTENT))

    def road(self, index: int) -> Road:
        return self.main if index == 0 else self.cross

    # --- frames ---------------------------------------------------------------------
    def to_global(self, xy: np.ndarray, yaw=None):
        c, s = np.cos(self.theta), np.sin(self.theta)
        xy = np.asarray(xy, dtype=np.float64)
        g = np.stack([c * xy[..., 0] - s * xy[..., 1], s * xy[..., 0] + c * xy[..., 1]], axis=-1) + self.origin
        if yaw is None:
            return g
        return g, np.asarray(yaw) + self.theta

    # --- routes ---------------------------------------------------------------------
    def lane_route(self, arm: str, lateral: float, turn: str = "straight",
                   exit_lateral: float | None = None) -> Route:
        """A vehicle path on ``arm`` at lateral offset ``lateral`` (arm frame), through the junction.

        ``turn`` is straight/left/right; ``exit_lateral`` is the offset on the exit road.
        """
        road = self.road(ARM_ROAD[arm])
        other = self.road(1 - ARM_ROAD[arm])
        stop_x = -(other.half + STOP_LINE)
        entry_x = -(other.half + 0.5)
        xs = np.arange(-EXTENT * 1.5, entry_x, 0.5)
        ys = np.full_like(xs, lateral)
        approach = np.stack([xs, ys], axis=1)
        if turn == "straight":
            ex = exit_lateral if exit_lateral is not None else lateral
            xs2 = np.arange(entry_x, EXTENT * 1.5, 0.5)
            rest = np.stack([xs2, np.full_like(xs2, ex)], axis=1)
            # a smooth offset change across the junction when the exit lane differs
            if ex != lateral:
                u = np.clip((xs2 - entry_x) / (2 * other.half + 1.0), 0.0, 1.0)
                rest[:, 1] = lateral + (ex - lateral) * (0.5 - 0.5 * np.cos(np.pi * u))
            pts = np.vstack([approach, rest])
        else:
            ex = exit_lateral if exit_lateral is not None else other.lane_offset(0 if turn == "left" else other.lanes - 1)
            # exit point in the arm frame: on the other road, past this road's kerb
            h1 = TURN_DELTA[turn]
            fwd = np.array([np.cos(h1), np.sin(h1)])
            left = np.array([-np.sin(h1), np.cos(h1)])
            p1 = (road.half + 0.5) * fwd + ex * left
            p0 = np.array([entry_x, lateral])
            curve = _bezier(p0, 0.0, p1, h1)
            tail = p1 + np.arange(0.5, EXTENT * 1.5, 0.5)[:, None] * fwd
            pts = np.vstack([approach, curve, tail])
        local = arm_to_local(arm, pts)
        route = Route(local, road=ARM_ROAD[arm], turn=turn, approach_heading=ARM_HEADING[arm])
        route.stop_s = float(np.interp(stop_x, xs, route.s[: len(xs)]))
        return route

    def sidewalk_route(self, road_index: int, side: int, lateral_in_walk: float, direction: int) -> Route:
        """A straight walk along ``road_index``'s sidewalk on ``side`` (+1 left/-1 right of +axis)."""
        road = self.road(road_index)
        off = side * (road.half + lateral_in_walk)
        t = np.arange(-EXTENT * 1.5, EXTENT * 1.5, 1.0) * direction
        pts = np.stack([t, np.full_like(t, off)], axis=1)
        if road_index == 1:
            pts = np.stack([-pts[:, 1], pts[:, 0]], axis=1)
        return Route(pts, road=-1)

    def crossing_route(self, road_index: int, at: float, from_side: int, walk_in: float, walk_out: float,
                       approach: float, direction: int) -> Route:
        """Walk along a sidewalk to ``at``, cross ``road_index`` there, then walk on along the far side."""
        road = self.road(road_index)
        y0 = from_side * (road.half + walk_in)
        y1 = -from_side * (road.half + walk_out)
        pts = [(at - direction * approach, y0), (at, y0), (at, y1), (at + direction * EXTENT, y1)]
        pts = np.asarray(pts, dtype=np.float64)
        dense = [np.linspace(pts[i], pts[i + 1], max(2, int(np.hypot(*(pts[i + 1] - pts[i])) / 0.5)))[:-1]
                 for i in range(3)]
        dense = np.vstack(dense + [pts[-1:]])
        if road_index == 1:
            dense = np.stack([-dense[:, 1], dense[:, 0]], axis=1)
        route = Route(dense, road=-1)
        route.kerb_s = approach + walk_in - 0.3
        return route

    # --- map ------------------------------------------------------------------------
    def map_mask(self) -> np.ndarray:
        """Semantic prior (roads and sidewalks = 255) at 0.1 m/px over the global frame.

        Pixel (row, col) covers global (col * res, (rows - row) * res), as the devkit's
        MapMask expects; the image spans global [0, origin + map_extent] on both axes.
        """
        ext = self.map_extent
        size = np.ceil((self.origin + ext) / MAP_RESOLUTION).astype(int) + 1
        w, h = int(size[0]), int(size[1])
        mask = np.zeros((h, w), dtype=np.uint8)
        for road_index in (0, 1):
            road = self.road(road_index)
            rect = np.array([[-ext, -road.outer], [ext, -road.outer], [ext, road.outer], [-ext, road.outer]])
            if road_index == 1:
                rect = np.stack([-rect[:, 1], rect[:, 0]], axis=1)
            g = self.to_global(rect)
            px = np.stack([g[:, 0] / MAP_RESOLUTION, h - g[:, 1] / MAP_RESOLUTION], axis=1)
            cv2.fillConvexPoly(mask, np.round(px * 16).astype(np.int32), 255, cv2.LINE_8, 4)
        return mask


def make_layout(rng: np.random.Generator) -> Layout:
    """A random intersection: lane counts, widths, parking, bike lanes, buildings and props."""

    def road() -> Road:
        lanes = int(rng.choice([1, 2, 2]))
        return Road(
            lanes=lanes,
            lane_width=round(float(rng.uniform(3.2, 3.7)), 2),
            bike_lane=float(rng.choice([0.0, 0.0, 1.6])),
            parking=float(rng.choice([0.0, 2.4, 2.4])),
            sidewalk=round(float(rng.uniform(3.4, 5.5)), 2),
        )

    main, cross = road(), road()
    cycle = float(rng.uniform(36.0, 60.0))
    signals = Signals(cycle=cycle, green_main=float(rng.uniform(0.4, 0.6) * cycle - 4.0), amber=3.0,
                      offset=float(rng.uniform(0.0, cycle)))
    margin = np.round(rng.uniform(20.0, 60.0, size=2), 3)
    layout = Layout(
        main=main,
        cross=cross,
        signals=signals,
        margin=margin,
        theta=float(rng.uniform(-np.pi, np.pi)),
        crosswalks=bool(rng.random() < 0.8),
        verge=int(rng.random() < 0.35),
    )
    _place_buildings(layout, rng)
    _place_props(layout, rng)
    return layout


def _place_buildings(layout: Layout, rng: np.random.Generator) -> None:
    """Rows of buildings facing each road in the four quadrants, with alleys and parking lots."""
    for qx in (-1, 1):
        for qy in (-1, 1):
            taken: list[tuple[float, float, float, float]] = []   # axis-aligned rects (x0, x1, y0, y1)
            for facing in (0, 1):
                road = layout.road(facing)
                other = layout.road(1 - facing)
                setback = float(rng.uniform(0.0, 4.0))
                # along-street coordinate a (distance from the junction), across c (from the centre line)
                a = other.outer + float(rng.uniform(0.5, 3.0))
                while a < EXTENT:
                    if rng.random() < 0.12 and a < EXTENT - 40:
                        length = float(rng.uniform(25.0, 40.0))
                        c0, c1 = road.outer + 1.0, road.outer + 1.0 + float(rng.uniform(14.0, 22.0))
                        kind = "lot"
                    else:
                        length = float(rng.uniform(12.0, 45.0))
                        depth = float(rng.uniform(12.0, 26.0))
                        c0, c1 = road.outer + setback, road.outer + setback + depth
                        kind = "building"
                    rect = _quadrant_rect(facing, qx, qy, a, a + length, c0, c1)
                    if any(_overlaps(rect, r) for r in taken):
                        a += 2.0
                        continue
                    taken.append(rect)
                    x0, x1, y0, y1 = rect
                    if kind == "lot":
                        layout.lots.append(rect)
                        a += length + 2.0
                        continue
                    height = float(rng.choice([rng.uniform(5.0, 12.0), rng.uniform(10.0, 32.0)]))
                    yaw = 0.0 if facing == 0 else np.pi / 2
                    along, across = (x1 - x0, y1 - y0) if facing == 0 else (y1 - y0, x1 - x0)
                    layout.buildings.append(
                        Building(center=((x0 + x1) / 2, (y0 + y1) / 2), yaw=yaw, length=along, depth=across,
                                 height=height, style=int(rng.integers(0, 6)))
                    )
                    a += length + float(rng.choice([0.0, 0.0, rng.uniform(2.0, 9.0)]))


def _quadrant_rect(facing: int, qx: int, qy: int, a0: float, a1: float, c0: float, c1: float):
    """Axis-aligned rect (x0, x1, y0, y1) from along-street [a0, a1] and across-street [c0, c1]."""
    if facing == 0:
        xs, ys = (qx * a0, qx * a1), (qy * c0, qy * c1)
    else:
        xs, ys = (qx * c0, qx * c1), (qy * a0, qy * a1)
    return (min(xs), max(xs), min(ys), max(ys))


def _overlaps(r1, r2, margin: float = 0.5) -> bool:
    return not (r1[1] + margin <= r2[0] or r2[1] + margin <= r1[0] or r1[3] + margin <= r2[2]
                or r2[3] + margin <= r1[2])


def _place_props(layout: Layout, rng: np.random.Generator) -> None:
    """Lamp posts at the kerb and trees in the sidewalk, along both roads."""
    trees = rng.random() < 0.6
    for road_index in (0, 1):
        road = layout.road(road_index)
        other = layout.road(1 - road_index)
        for side in (-1, 1):
            spacing = float(rng.uniform(22.0, 34.0))
            start = other.outer + float(rng.uniform(2.0, 10.0))
            for sign in (-1, 1):
                a = start
                while a < EXTENT:
                    lat = side * (road.half + 0.35)
                    pos = (sign * a, lat) if road_index == 0 else (-lat, sign * a)
                    layout.props.append(Prop("lamp", pos, 0.0, float(rng.uniform(6.5, 8.5))))
                    if trees and road.sidewalk > 3.0:
                        ta = a + spacing / 2
                        tlat = side * (road.half + road.sidewalk - 0.8)
                        tpos = (sign * ta, tlat) if road_index == 0 else (-tlat, sign * ta)
                        layout.props.append(Prop("tree", tpos, float(rng.uniform(0, np.pi)),
                                                 float(rng.uniform(4.5, 8.0))))
                    a += spacing
