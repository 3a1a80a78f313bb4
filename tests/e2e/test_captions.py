"""Report captions say true things about splits: a caption that claims the test sequences
belongs to a rule that reads them, one that claims the tuning split to a rule that reads it,
and no rule that reads only the tuning split is captioned as test.

The split a rule reads is found in the rule files: its input section's references to the test
data (``OUT.seqmap``, ``OUT.mot_dir``, ``OUT.coco_test``, the tracking jobs' input functions) or
the tuning data (``OUT.seqmap_tune``, ``OUT.mot_tune``, ``tune_inputs``), followed through the
outputs of the rules it reads (settings files, ``OUT.tuned``/``sweep_best``, carry no data and
are not followed).
"""

from __future__ import annotations

import re

from .workflow import ROOT

RULES = ROOT / "workflow" / "rules"
REPORT = ROOT / "workflow" / "report"
TEST_MARKS = ("OUT.seqmap,", "OUT.seqmap)", "OUT.mot_dir", "OUT.coco_test", "tracker_inputs", "gap_tracker_inputs")
TUNE_MARKS = ("OUT.seqmap_tune", "OUT.mot_tune", "tune_inputs", "OUT.detections_tune", "OUT.gt_detections_tune")
SETTINGS = ("OUT.tuned", "OUT.sweep_best", "SWEEP_OUT.best")
REF = re.compile(r"\b(?:OUT|SWEEP_OUT|GAP_OUT|REPORT_OUT)\.\w+")
# not claims about the data read: a split ruled out, settings tuned elsewhere
NEGATED = re.compile(r"never\s+an?\s+(?:tracking\s+)?test\s+(?:scene|sequence)s?|tuned\s+on\s+the\s+tuning\s+split", re.I)
TEST_CLAIM = re.compile(r"\btest(?:_front)?\s+(?:sequences?|scenes?|split)\b|``test_front``|CAM_FRONT\s+test", re.I)
TUNE_CLAIM = re.compile(r"\btuning\s+split\b", re.I)


def rules() -> dict[str, dict[str, str]]:
    """Rule name -> its input section, output section and body (``use rule`` variants too)."""
    text = "".join(p.read_text() for p in sorted(RULES.glob("*.smk")))
    out: dict[str, dict[str, str]] = {}
    pattern = r"^\s*(?:use rule \w+ as (\w+) with|rule (\w+)):\n(.*?)(?=^\s*(?:use )?rule |^\S|\Z)"
    found = re.findall(pattern, text, re.M | re.S)
    for variant, name, body in sorted(found, key=lambda m: bool(m[0])):  # base rules first
        sections = dict(re.findall(r"^ {4}(\w+):\n(.*?)(?=^ {4}\w+:|\Z)", body, re.M | re.S))
        base = re.search(r"use rule (\w+) as " + (variant or "x") + r"\b", text)
        if variant and base and "input" not in sections:
            sections["input"] = out[base.group(1)]["input"]
        out[variant or name] = {"input": sections.get("input", ""), "output": sections.get("output", ""),
                                "body": body}
    return out


def splits(name: str, table: dict, seen: frozenset = frozenset()) -> set[str]:
    """The splits rule ``name`` reads, directly or through the outputs of the rules it reads."""
    inputs = table[name]["input"]
    found = {"test"} if any(m in inputs for m in TEST_MARKS) else set()
    found |= {"tune"} if any(m in inputs for m in TUNE_MARKS) else set()
    for ref in set(REF.findall(inputs)) - set(SETTINGS):
        for other, rule in table.items():
            if other not in seen and other != name and re.search(re.escape(ref) + r"\b", rule["output"]):
                found |= splits(other, table, seen | {name})
    return found


def captions() -> dict[str, list[str]]:
    """Caption file -> the rules that use it."""
    out: dict[str, list[str]] = {}
    for name, rule in rules().items():
        for cap in re.findall(r'caption="\.\./report/([\w.]+\.rst)"', rule["body"]):
            out.setdefault(cap, []).append(name)
    return out


def claims(caption: str) -> set[str]:
    text = NEGATED.sub("", re.sub(r"{%.*?%}|{{.*?}}", "", (REPORT / caption).read_text(), flags=re.S))
    return {s for s, pattern in (("test", TEST_CLAIM), ("tune", TUNE_CLAIM)) if pattern.search(text)}


def test_the_rule_parser_sees_the_splits():
    table = rules()
    assert splits("sweep_tracking", table) == {"tune"}
    assert splits("compare_idsw", table) == {"test"}
    assert "test" in splits("gap_ablation", table)


def test_captions_claim_only_the_splits_their_rules_read():
    used = captions()
    assert {"compare.rst", "sweep_summary.rst", "gallery.rst"} <= set(used)
    table = rules()
    for caption, names in used.items():
        claimed = claims(caption)
        for name in names:
            read = splits(name, table)
            assert claimed <= read, f"{caption} ({name}) claims {sorted(claimed - read)}; the rule reads {sorted(read)}"
            if read == {"tune"}:
                assert "test" not in claimed, f"{caption} ({name}) says test; the rule reads the tuning split"
