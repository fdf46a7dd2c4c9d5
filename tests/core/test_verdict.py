from __future__ import annotations

import pytest

from aidetect.results import Evidence
from aidetect.verdict import decide, pixel_verdict


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (0.9, "ai_generated"),
        (0.7, "ai_generated"),
        (0.5, "uncertain"),
        (0.3, "real"),
        (0.05, "real"),
    ],
)
def test_band(p, expected):
    assert pixel_verdict(p, 0.5, (0.3, 0.7)) == expected


def test_no_band_is_a_plain_threshold():
    assert pixel_verdict(0.5, 0.5) == "ai_generated"
    assert pixel_verdict(0.49, 0.5) == "real"


def ev(signal, strength):
    return Evidence(kind="test", signal=signal, strength=strength, detail="t")


def test_strong_ai_evidence_overrides_pixels():
    verdict, decision = decide(0.01, 0.5, (0.3, 0.7), [ev("ai_generated", "strong")])
    assert verdict == "ai_generated" and decision.pixel_verdict == "real"
    assert decision.rule == "strong_ai_provenance"


def test_strong_real_moves_only_borderline():
    assert decide(0.5, 0.5, (0.3, 0.7), [ev("real", "strong")])[0] == "real"
    assert decide(0.95, 0.5, (0.3, 0.7), [ev("real", "strong")])[0] == "ai_generated"


def test_moderate_ai_moves_borderline_and_weak_never_counts():
    assert decide(0.5, 0.5, (0.3, 0.7), [ev("ai_generated", "moderate")])[0] == "ai_generated"
    assert decide(0.2, 0.5, (0.3, 0.7), [ev("ai_generated", "moderate")])[0] == "real"
    for signal in ("ai_generated", "real"):
        assert decide(0.5, 0.5, (0.3, 0.7), [ev(signal, "weak")])[0] == "uncertain"


@pytest.mark.parametrize(
    ("p", "evidence", "verdict", "rule", "conflict"),
    [
        # EXIF Software naming a generator on camera-looking pixels: the verdict stays the
        # pixels' but the answer must say the evidence disagrees.
        (0.1, [ev("ai_generated", "moderate")], "real", "pixel_model", True),
        (0.5, [ev("ai_generated", "moderate")], "ai_generated", "moderate_ai_provenance", True),
        (0.1, [ev("ai_generated", "strong")], "ai_generated", "strong_ai_provenance", True),
        (0.9, [ev("ai_generated", "strong")], "ai_generated", "strong_ai_provenance", False),
        (0.9, [ev("real", "moderate")], "ai_generated", "pixel_model", True),
        (0.1, [ev("real", "weak")], "real", "pixel_model", False),
        (0.9, [ev("real", "weak")], "ai_generated", "pixel_model", False),  # weak: no conflict
        (0.1, [], "real", "pixel_model", False),
    ],
)
def test_conflicting_evidence_is_flagged(p, evidence, verdict, rule, conflict):
    v, d = decide(p, 0.5, (0.3, 0.7), evidence)
    assert (v, d.rule, d.conflicting_evidence) == (verdict, rule, conflict)
