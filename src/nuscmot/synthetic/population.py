"""How many of what: objects are added until, per keyframe, about ``density`` are within
annotation range of the ego, in the nuScenes-like class mix, with a kept share of distractors.
"""

from __future__ import annotations

import numpy as np

from nuscmot.synthetic.agents import Agent
from nuscmot.synthetic.layout import Layout
from nuscmot.synthetic.spawner import Spawner

TARGET_MIX = {
    "vehicle.car": 0.36,
    "human.pedestrian.adult": 0.24,
    "vehicle.truck": 0.10,
    "vehicle.bus.rigid": 0.06,
    "vehicle.trailer": 0.06,
    "vehicle.motorcycle": 0.09,
    "vehicle.bicycle": 0.09,
}
DISTRACTOR_MIX = {"movable_object.trafficcone": 0.45, "movable_object.barrier": 0.4, "vehicle.construction": 0.15}


def populate(layout: Layout, ego: Agent, key_times: np.ndarray, density: int, distractor_fraction: float,
             rng: np.random.Generator) -> list[Agent]:
    """Objects until the mean number within range per keyframe reaches ``density``."""
    sp = Spawner(layout, ego, key_times, rng)
    names = list(TARGET_MIX)
    probs = np.array([TARGET_MIX[n] for n in names])
    dnames = list(DISTRACTOR_MIX)
    dprobs = np.array([DISTRACTOR_MIX[n] for n in dnames])
    # the distractor share is kept on object-keyframes in range (what annotations will count)
    hits_target = hits_distract = 0.0
    attempts = 0
    while sp.counts.mean() < density and attempts < 60 * max(density, 1):
        attempts += 1
        total = hits_target + hits_distract
        if total == 0:
            distract = bool(rng.random() < distractor_fraction)
        else:
            distract = distractor_fraction > 0 and hits_distract <= distractor_fraction * total
        if distract:
            cat = str(rng.choice(dnames, p=dprobs))
            group = {"movable_object.trafficcone": sp.cones, "movable_object.barrier": sp.barriers,
                     "vehicle.construction": sp.works}[cat]()
        else:
            cat = str(rng.choice(names, p=probs / probs.sum()))
            group = _target_group(sp, cat, rng)
        before = sp.counts.sum()
        if group and sp.try_add(group):   # groups are all targets or all distractors
            if distract:
                hits_distract += sp.counts.sum() - before
            else:
                hits_target += sp.counts.sum() - before
    return sp.objects


def _target_group(sp: Spawner, cat: str, rng: np.random.Generator) -> list[Agent]:
    r = rng.random()
    if cat == "vehicle.car":
        return sp.driving(cat) if r < 0.7 else sp.parked_vehicle(cat)
    if cat == "vehicle.truck":
        sub = "pickup" if rng.random() < 0.35 else "box"
        return sp.driving(cat, sub) if r < 0.7 else sp.parked_vehicle(cat, sub)
    if cat == "vehicle.bus.rigid":
        return sp.driving("vehicle.bus.bendy" if rng.random() < 0.2 else cat)
    if cat == "vehicle.trailer":
        sub = "small" if rng.random() < 0.4 else "semi"
        return sp.towing() if r < 0.5 else sp.parked_vehicle(cat, sub)
    if cat == "vehicle.motorcycle":
        return sp.driving(cat) if r < 0.65 else sp.parked_vehicle(cat)
    if cat == "vehicle.bicycle":
        return sp.cyclist() if r < 0.6 else sp.parked_bicycles()
    if cat == "human.pedestrian.adult":
        if r < 0.5:
            return sp.walker()
        return sp.crosser() if r < 0.78 else sp.standing()
    raise ValueError(cat)
