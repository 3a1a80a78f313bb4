"""Category mapping (nuscmot.data.classes) and scene splits (nuscmot.data.splits)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nuscmot.common.errors import InputError
from nuscmot.data.classes import CLASSES, DEFAULT_CATEGORY_MAP, build_category_lookup, coco_categories, prefix_matches
from nuscmot.data.splits import Splits, check_disjoint, detector_split, make_splits, official_scenes, read_splits_file

# The real nuScenes category table (v1.0).
NUSCENES_CATEGORIES = [
    "animal", "human.pedestrian.adult", "human.pedestrian.child", "human.pedestrian.construction_worker",
    "human.pedestrian.personal_mobility", "human.pedestrian.police_officer", "human.pedestrian.stroller",
    "human.pedestrian.wheelchair", "movable_object.barrier", "movable_object.debris",
    "movable_object.pushable_pullable", "movable_object.trafficcone", "static_object.bicycle_rack",
    "vehicle.bicycle", "vehicle.bus.bendy", "vehicle.bus.rigid", "vehicle.car", "vehicle.construction",
    "vehicle.emergency.ambulance", "vehicle.emergency.police", "vehicle.motorcycle", "vehicle.trailer", "vehicle.truck",
]


def lookup(**kw):
    args = dict(classes=CLASSES, category_map=DEFAULT_CATEGORY_MAP, include_construction=False, dataset_categories=NUSCENES_CATEGORIES)
    args.update(kw)
    return build_category_lookup(**args)


def test_default_mapping_on_real_categories():
    m = lookup()
    assert [c["id"] for c in coco_categories(CLASSES)] == [1, 2, 3, 4, 5, 6, 7]
    assert m["vehicle.car"] == 1 and m["vehicle.truck"] == 2 and m["vehicle.trailer"] == 4
    assert m["vehicle.bus.bendy"] == m["vehicle.bus.rigid"] == 3
    assert all(m[c] == 5 for c in NUSCENES_CATEGORIES if c.startswith("human.pedestrian."))
    assert m["vehicle.motorcycle"] == 6 and m["vehicle.bicycle"] == 7
    # Everything else is dropped, including bicycle racks and emergency vehicles.
    for dropped in ("animal", "movable_object.barrier", "static_object.bicycle_rack", "vehicle.construction", "vehicle.emergency.police"):
        assert dropped not in m


def test_construction_toggle():
    assert lookup(include_construction=True)["vehicle.construction"] == 2
    assert "vehicle.construction" not in lookup(include_construction=False)


def test_prefix_matching_is_on_dot_boundaries():
    assert prefix_matches("human.pedestrian", "human.pedestrian.adult")
    assert prefix_matches("vehicle.car", "vehicle.car")
    assert not prefix_matches("vehicle.bus", "vehicle.busy")
    m = lookup(category_map={"bus": ["vehicle.bus"]}, dataset_categories=["vehicle.bus.rigid", "vehicle.busy"])
    assert m == {"vehicle.bus.rigid": 3}


def test_longest_prefix_wins():
    m = lookup(category_map={"car": ["vehicle"], "truck": ["vehicle.truck"]})
    assert m["vehicle.truck"] == 2 and m["vehicle.bus.rigid"] == 1


def test_unknown_class_in_mapping_names_the_key():
    with pytest.raises(InputError, match=r"convert\.category_map\.van") as err:
        lookup(category_map={**DEFAULT_CATEGORY_MAP, "van": ["vehicle.car"]})
    assert "\n" not in str(err.value)


def test_category_not_in_dataset_names_the_key():
    with pytest.raises(InputError, match=r"category\.json \[convert\.category_map\.car\].*vehicle\.cars"):
        lookup(category_map={**DEFAULT_CATEGORY_MAP, "car": ["vehicle.cars"]}, category_table="category.json")
    with pytest.raises(InputError, match=r"convert\.include_construction"):
        lookup(include_construction=True, dataset_categories=[c for c in NUSCENES_CATEGORIES if c != "vehicle.construction"])


def test_same_entry_under_two_classes_is_an_error():
    with pytest.raises(InputError, match="both"):
        lookup(category_map={"car": ["vehicle.car"], "truck": ["vehicle.car"]})


@settings(max_examples=100, deadline=None, derandomize=True)
@given(
    st.sets(st.text("abcdefgh0123456789", min_size=1, max_size=6), min_size=2, max_size=40),
    st.floats(0.01, 0.99),
    st.integers(0, 2**32 - 1),
)
def test_detector_split_is_a_deterministic_partition(names, fraction, seed):
    train, val = detector_split(names, fraction, seed)
    assert sorted(train + val) == sorted(names)  # covers the official train split
    assert not set(train) & set(val) and train and val
    assert train == sorted(train) and val == sorted(val)
    assert (train, val) == detector_split(sorted(names, reverse=True), fraction, seed)  # input order irrelevant


def test_make_splits_keeps_official_val_as_test():
    train = [f"scene-{i:04d}" for i in range(10)]
    val = ["scene-0100", "scene-0101"]
    s = make_splits(train, val, train + val + ["scene-9999"], 0.2, 0, source="x")
    assert s.test == tuple(val)
    assert not (set(s.detector_train) | set(s.detector_val)) & set(s.test)
    assert sorted(s.detector_train + s.detector_val) == train
    assert len(s.detector_val) == 2
    assert json.loads(json.dumps(s.to_json())) == {"detector_train": list(s.detector_train), "detector_val": list(s.detector_val), "test": val}


def test_make_splits_rejects_bad_lists():
    train = ["a", "b", "c"]
    with pytest.raises(InputError, match="not in the scene table"):
        make_splits(train, ["z"], train, 0.3, 0, source="splits.json")
    with pytest.raises(InputError, match="both train and val"):
        make_splits(train, ["a"], train, 0.3, 0, source="splits.json")
    with pytest.raises(InputError, match="at least 1 val"):
        make_splits(train, [], train, 0.3, 0, source="splits.json")


def test_disjointness_is_asserted():
    with pytest.raises(AssertionError, match="detector_train and test"):
        Splits(("a", "b"), ("c",), ("a",))
    check_disjoint(Splits(("a", "b"), ("c",), ("d",)))


def test_official_splits_for_real_versions(tmp_path):
    train, val = official_scenes("v1.0-mini", tmp_path)
    assert len(train) == 8 and len(val) == 2 and not set(train) & set(val)
    train, val = official_scenes("v1.0-trainval", tmp_path)
    assert len(train) == 700 and len(val) == 150


def test_splits_file_for_other_versions(tmp_path):
    (tmp_path / "v1.0-synth").mkdir()
    with pytest.raises(InputError, match="missing splits file"):
        official_scenes("v1.0-synth", tmp_path)
    path = tmp_path / "v1.0-synth" / "splits.json"
    path.write_text('{"train": ["b", "a"], "val": ["c"]}')
    assert official_scenes("v1.0-synth", tmp_path) == (["a", "b"], ["c"])
    path.write_text('{"train": ["b", "a"], "val": ')
    with pytest.raises(InputError, match="corrupt JSON"):
        read_splits_file(path)
    path.write_text('{"train": "a"}')
    with pytest.raises(InputError, match="'train' must be a list"):
        read_splits_file(path)
