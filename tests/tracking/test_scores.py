"""``tracking.score_transform``: per-class sigmoid offsets (``class_offsets``)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nuscmot.common.config import from_dict
from nuscmot.common.errors import InputError
from nuscmot.tracking.scores import ScoreTransform, checked_scores

WHERE = "tracking.score_transform"


def transform(data) -> ScoreTransform:
    return from_dict(ScoreTransform, data, where=WHERE)


def test_each_class_uses_its_own_offset_and_the_rest_the_default():
    t = transform({"kind": "sigmoid", "offset": 0.5, "class_offsets": {"1": 0.3, "5": -1.2}})
    raw = np.array([0.3, -1.2, 0.5, 0.3])
    out = t.apply(raw, np.array([1, 5, 2, 5]))
    assert out[:3] == pytest.approx([0.5, 0.5, 0.5])
    assert out[3] == pytest.approx(1 / (1 + np.exp(-1.5)))
    assert t.apply(raw) == pytest.approx(1 / (1 + np.exp(-(raw - 0.5))))  # no classes: the default offset


def test_yaml_int_keys_and_json_string_keys_are_the_same_config():
    from_yaml = transform({"kind": "sigmoid", "class_offsets": {1: 0.3, 5: -1.2}})
    from_json = transform(json.loads(json.dumps({"kind": "sigmoid", "class_offsets": {1: 0.3, 5: -1.2}})))
    assert from_yaml == from_json
    assert from_yaml.class_offsets == {"1": 0.3, "5": -1.2}


def test_checked_scores_reads_the_class_column(tmp_path):
    dets = np.array([[1, -1, 0, 0, 5, 5, 2.0, 1, -1, -1], [1, -1, 0, 0, 5, 5, 2.0, 3, -1, -1]], dtype=float)
    out = checked_scores(dets, tmp_path / "a.txt", transform({"kind": "sigmoid", "class_offsets": {"3": 2.0}}))
    assert out[:, 6] == pytest.approx([1 / (1 + np.exp(-2.0)), 0.5])


@pytest.mark.parametrize("key", ["car", "0", "-1", "1.5", ""])
def test_a_key_that_is_not_a_class_id_is_one_line_naming_the_key(key):
    with pytest.raises(InputError, match=r"^tracking\.score_transform\.class_offsets: keys must be class ids") as err:
        transform({"kind": "sigmoid", "class_offsets": {key: 0.1}})
    assert "\n" not in str(err.value)


def test_a_class_listed_twice_or_a_bad_value_is_an_error():
    with pytest.raises(InputError, match=r"class_offsets: class 1 is listed twice"):
        transform({"kind": "sigmoid", "class_offsets": {1: 0.1, "1": 0.2}})
    with pytest.raises(InputError, match=r"tracking\.score_transform \[class_offsets\]: class_offsets must be a mapping"):
        transform({"kind": "sigmoid", "class_offsets": {"1": "high"}})
    with pytest.raises(InputError, match=r"class_offsets must be a mapping"):
        transform({"kind": "sigmoid", "class_offsets": [0.1]})


def test_class_offsets_need_the_sigmoid():
    with pytest.raises(InputError, match=r"class_offsets: needs kind: sigmoid \(got kind: none\)"):
        transform({"class_offsets": {"1": 0.1}})
