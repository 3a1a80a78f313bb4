"""Gap ablation: degradation levels of the GT-derived detections and the curves over them.

A level is a drop mode and a drop rate, named ``<mode>/drop_rate~<rate>``. Every level uses
the same box jitter and false-positive rate (the ``gap_ablation`` slice) and the seed and
score range of the ``gt_detections`` slice. A drop rate of 0 drops nothing whatever the mode,
so it is one shared level, ``none/drop_rate~0.0``, that starts every mode's curve.

Every level's detections are tracked once per ``ego_compensation`` value (the
``tracking.association`` key, :mod:`nuscmot.tracking.ego`), in
``<level>/ego_compensation~<true|false>/``, so the curves compare each motion model with
and without ego-motion compensation on the same detections.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from nuscmot.common.fields import AT_LEAST_0, NON_EMPTY_SET, check_fields, limited
from nuscmot.sweep.grid import format_value

DROP_MODES = ("independent", "burst")
NO_DROP = "none"
EGO_KEY = "ego_compensation"
CURVE_METRICS = ("IDSW", "IDSW_per_100_tracked", "MOTA", "IDF1")
FROM_METRICS = ("IDSW", "IDSW_trackeval", "MOTA", "IDF1", "HOTA", "FP", "FN", "num_objects")
CSV_COLUMNS = ("tracker", EGO_KEY, "mode", "drop_rate", "level", *FROM_METRICS, "IDSW_per_100_tracked")


@dataclass(frozen=True)
class GapAblationConfig:
    """The ``gap_ablation`` config slice."""

    drop_rates: tuple[float, ...] = limited((0.0, 0.1, 0.2, 0.3, 0.4), **NON_EMPTY_SET,
                                            items={"minimum": 0, "exclusiveMaximum": 1})
    drop_modes: tuple[str, ...] = limited(DROP_MODES, **NON_EMPTY_SET, items={"enum": DROP_MODES})
    jitter: float = limited(0.05, **AT_LEAST_0)  # box noise sigma as a fraction of the box size
    false_positives_per_frame: float = limited(0.5, **AT_LEAST_0)
    # tracking.association.ego_compensation values
    ego_compensation: tuple[bool, ...] = limited((False,), **NON_EMPTY_SET)

    def __post_init__(self) -> None:
        check_fields(self, "gap_ablation")


@dataclass(frozen=True)
class Level:
    """One degradation level: folder name, drop mode (``none`` at rate 0) and rate."""

    name: str
    mode: str
    drop_rate: float

    def detections_params(self, base: Mapping[str, Any], cfg: GapAblationConfig) -> dict[str, Any]:
        """The ``gt_detections`` slice for this level: ``base`` (seed, score range) with the
        level's drop rate and mode and the ablation's jitter and false positives."""
        return {
            **base,
            "drop_rate": self.drop_rate,
            "drop_mode": DROP_MODES[0] if self.mode == NO_DROP else self.mode,
            "jitter": float(cfg.jitter),
            "false_positives_per_frame": float(cfg.false_positives_per_frame),
        }


def level_name(mode: str, drop_rate: float) -> str:
    return f"{mode}/drop_rate~{format_value(float(drop_rate))}"


def levels(cfg: GapAblationConfig) -> list[Level]:
    """Every level: the shared no-drop level (if 0 is a rate), then per mode, per rate > 0."""
    rates = sorted(float(r) for r in cfg.drop_rates)
    out = [Level(level_name(NO_DROP, 0.0), NO_DROP, 0.0)] if 0.0 in rates else []
    for mode in cfg.drop_modes:
        out += [Level(level_name(mode, r), mode, r) for r in rates if r > 0]
    return out


def ego_name(value: bool) -> str:
    """Folder name of one compensation setting: ``ego_compensation~true`` / ``~false``."""
    return f"{EGO_KEY}~{format_value(bool(value))}"


def ego_names(cfg: GapAblationConfig) -> dict[str, bool]:
    """``{folder name: value}`` of the configured compensation settings (config order)."""
    return {ego_name(v): bool(v) for v in cfg.ego_compensation}


def level_regex(cfg: GapAblationConfig) -> str:
    """Regex a ``{level}`` wildcard must match (only this config's levels)."""
    import re

    return "|".join(re.escape(lv.name) for lv in levels(cfg))


def curve_rows(
    per_level: Mapping[str, Mapping[str, Mapping[str, Mapping[str, Any]]]], cfg: GapAblationConfig, trackers: Sequence[str]
) -> list[dict[str, Any]]:
    """Rows of the curves table: per tracker, per compensation setting, per mode, per drop rate
    (the no-drop level is repeated under every mode). ``per_level[level name][ego name][tracker]``
    is the OVERALL metrics row (``ego name``: :func:`ego_name`)."""
    by_name = {lv.name: lv for lv in levels(cfg)}
    rows = []
    for tracker in trackers:
        for ego, comp in ego_names(cfg).items():
            for mode in cfg.drop_modes:
                for rate in sorted(float(r) for r in cfg.drop_rates):
                    lv = by_name[level_name(NO_DROP if rate == 0 else mode, rate)]
                    overall = per_level[lv.name][ego][tracker]
                    row: dict[str, Any] = {"tracker": tracker, EGO_KEY: comp, "mode": mode, "drop_rate": rate, "level": lv.name}
                    for col in FROM_METRICS:
                        row[col] = overall.get(col)
                    row["IDSW_per_100_tracked"] = idsw_rate(row)
                    rows.append(row)
    return rows


def compensation_rows(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per tracker, mode and drop rate with both settings: IDSW, MOTA and IDF1 without
    (``_off``) and with (``_on``) ego-motion compensation."""
    pairs: dict[tuple, dict[bool, Mapping[str, Any]]] = {}
    for r in rows:
        pairs.setdefault((r["tracker"], r["mode"], r["drop_rate"]), {})[r[EGO_KEY]] = r
    out = []
    for (tracker, mode, rate), by in pairs.items():
        if set(by) != {False, True}:
            continue
        row: dict[str, Any] = {"tracker": tracker, "mode": mode, "drop_rate": rate}
        for metric in ("IDSW", "MOTA", "IDF1"):
            row[f"{metric}_off"], row[f"{metric}_on"] = by[False].get(metric), by[True].get(metric)
        out.append(row)
    return out


def idsw_rate(row: Mapping[str, Any]) -> float | None:
    """IDSW per 100 tracked GT boxes (GT boxes minus misses): raw IDSW can fall as drops rise
    only because fewer boxes are tracked at all."""
    try:
        tracked = row["num_objects"] - row["FN"]
        return None if row["IDSW"] is None or tracked <= 0 else 100.0 * row["IDSW"] / tracked
    except (KeyError, TypeError):
        return None


def attribution(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per tracker, compensation setting and mode: IDSW (and IDSW per 100 tracked boxes) at
    the lowest drop rate (switches association and motion make without gaps) vs at the highest."""
    out = []
    keys = list(dict.fromkeys((r["tracker"], r.get(EGO_KEY, False), r["mode"]) for r in rows))
    for tracker, comp, mode in keys:
        mine = sorted((r for r in rows if (r["tracker"], r.get(EGO_KEY, False), r["mode"]) == (tracker, comp, mode)),
                      key=lambda r: r["drop_rate"])
        lo, hi = mine[0], mine[-1]
        out.append({
            "tracker": tracker,
            EGO_KEY: comp,
            "mode": mode,
            "lowest_drop_rate": lo["drop_rate"],
            "IDSW_at_lowest": lo["IDSW"],
            "highest_drop_rate": hi["drop_rate"],
            "IDSW_at_highest": hi["IDSW"],
            "IDSW_added_by_gaps": None if lo["IDSW"] is None or hi["IDSW"] is None else hi["IDSW"] - lo["IDSW"],
            "rate_at_lowest": lo.get("IDSW_per_100_tracked"),
            "rate_at_highest": hi.get("IDSW_per_100_tracked"),
            "FN_at_lowest": lo.get("FN"),
            "FN_at_highest": hi.get("FN"),
        })  # fmt: skip
    return out
