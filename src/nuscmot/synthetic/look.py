"""An object's fixed appearance (:class:`Look`). Pedestrians are the one class whose parts
change over time (legs and arms swing with the walk phase), so theirs are built here per call.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nuscmot.synthetic.parts import DARK, HEX, Part, decal, hexahedron, rect


@dataclass
class Look:
    """An object's fixed appearance; ``parts(phase)`` gives its parts (pedestrians animate)."""

    category: str
    size: tuple[float, float, float]
    subtype: str
    with_rider: bool
    colors: dict[str, np.ndarray]
    static_parts: list[Part] | None = None

    def parts(self, phase: float = 0.0) -> list[Part]:
        if self.static_parts is not None:
            return self.static_parts
        return _pedestrian(self, phase)


# --- pedestrians (animated) ----------------------------------------------------------------
def _pedestrian(look: Look, phase: float) -> list[Part]:
    w, l, h = look.size
    g = -h / 2
    child = look.category == "human.pedestrian.child"
    hip = g + h * (0.45 if child else 0.48)
    shoulder = g + h * (0.8 if child else 0.82)
    head_top = h / 2
    leg_w, torso_w = w * 0.22, min(w * 0.62, w - 0.24)
    torso_l = l * 0.38
    swing = np.sin(phase) * min(0.28, l * 0.35) if phase else 0.0
    parts = []
    for side, sgn in ((1, 1), (-1, -1)):
        dx = swing * sgn
        yc = side * (0.02 + leg_w / 2)
        leg = Part(HEX, look.colors["trousers"], hexahedron(-0.08 + dx, 0.08 + dx, yc - leg_w / 2,
                                                            yc + leg_w / 2, g + 0.02, hip, top_x=(-0.09, 0.09)))
        decal(leg, "front", rect(0.0, 1.0, 0.0, 0.1), DARK)   # shoe
        parts.append(leg)
    torso = Part(HEX, look.colors["shirt"], hexahedron(-torso_l / 2, torso_l / 2, -torso_w / 2, torso_w / 2, hip + 0.005,
                                                       shoulder, top_y=(-torso_w / 2 * 0.95, torso_w / 2 * 0.95)))
    parts.append(torso)
    for side in (1, -1):
        dx = -swing * side * 0.6
        y0, y1 = (torso_w / 2 + 0.01, torso_w / 2 + 0.1) if side > 0 else (-torso_w / 2 - 0.1, -torso_w / 2 - 0.01)
        arm = Part(HEX, look.colors["shirt"] * 0.85, hexahedron(-0.05 + dx * 0.4, 0.05 + dx * 0.4, y0, y1,
                                                                hip - 0.08, shoulder - 0.02, top_x=(-0.05, 0.05)))
        decal(arm, "front", rect(0.0, 1.0, 0.0, 0.14), look.colors["skin"])
        parts.append(arm)
    hs = (head_top - shoulder) * 0.85
    head = Part(HEX, look.colors["skin"], hexahedron(-hs * 0.45, hs * 0.5, -hs * 0.4, hs * 0.4, head_top - hs, head_top))
    decal(head, "top", rect(0.0, 1.0, 0.0, 1.0), look.colors["hair"])
    decal(head, "back", rect(0.0, 1.0, 0.3, 1.0), look.colors["hair"])
    for face in ("left", "right"):
        decal(head, face, rect(0.0, 0.45, 0.45, 1.0) if face == "left" else rect(0.55, 1.0, 0.45, 1.0),
               look.colors["hair"])
    parts.append(head)
    return parts
