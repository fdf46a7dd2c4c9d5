"""``aidetect.evaluation``: a group of AI images against the reals of the same set."""

from __future__ import annotations

import numpy as np
import pytest

from aidetect.evaluation import against_reals, compute_metrics


def test_a_group_is_scored_against_every_real_and_nothing_else():
    y = np.array([0, 0, 0, 1, 1, 1])
    p = np.array([0.1, 0.4, 0.8, 0.9, 0.3, 0.05])
    group = np.array([False, False, False, True, True, False])  # the last fake is another group's
    r = against_reals(y, p, 0.5, group, y == 0)
    # 0.9 beats three reals, 0.3 beats one; the other group's 0.05 plays no part
    assert r["n"] == 2 and r["n_real"] == 3 and r["roc_auc"] == pytest.approx(4 / 6)
    assert r["detection_rate"] == 0.5 and 0 < r["average_precision"] <= 1
    assert against_reals(y, p, 0.5, np.zeros(6, bool), y == 0) == {"n": 0, "n_real": 3}
    no_reals = against_reals(y, p, 0.5, group, np.zeros(6, bool))
    assert "roc_auc" not in no_reals and no_reals["detection_rate"] == 0.5


def test_per_generator_metrics_keep_their_keys():
    m = compute_metrics([0, 0, 1, 1], [0.2, 0.6, 0.7, 0.1], 0.5, generators=["", "", "a", "b"])
    assert m["per_generator"] == {
        "a": {"n": 1, "detection_rate": 1.0, "roc_auc_vs_real": 1.0},
        "b": {"n": 1, "detection_rate": 0.0, "roc_auc_vs_real": 0.0},  # below both reals
    }
