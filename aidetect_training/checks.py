"""Warnings a training run must not keep to itself (recorded in the metadata, printed loudly).

- A threshold picked for a false-positive rate on too few validation reals is noise: at
  a target of 0.05, 3 real images cannot tell 0.05 from 0.33. Below ``MIN_FALSE_POSITIVES
  / target_fpr`` reals (200 at 0.05) the run warns.
- A test false-positive rate above the target means the threshold does not hold on
  unseen photos.
"""

from __future__ import annotations

import sys
from typing import Any

#: The validation reals must allow at least this many false positives at the target rate.
MIN_FALSE_POSITIVES = 10


def validation_warning(n_val_reals: int, target_fpr: float) -> str | None:
    needed = round(MIN_FALSE_POSITIVES / target_fpr) if target_fpr > 0 else 0
    if n_val_reals >= needed:
        return None
    return (
        f"the threshold was chosen on only {n_val_reals} real validation images; a "
        f"false-positive rate of {target_fpr} needs about {needed} (at least "
        f"{MIN_FALSE_POSITIVES} false positives' worth), so the threshold and the uncertain "
        "band are unreliable"
    )


def fpr_miss_warning(test_fpr: float | None, target_fpr: float, n_test_reals: int) -> str | None:
    if test_fpr is None or test_fpr <= target_fpr:
        return None
    return (
        f"the false-positive rate on {n_test_reals} real test images is {test_fpr:.3f}, above "
        f"the target {target_fpr}: the threshold does not hold on unseen photos"
    )


def shout(warnings: list[str]) -> None:
    """Print each warning to standard error, even under --quiet."""
    for w in warnings:
        print(f"WARNING: {w}", file=sys.stderr, flush=True)


def run_warnings(
    target_fpr: float, val: dict[str, Any] | None, test: dict[str, Any] | None
) -> list[str]:
    """What a run must say out loud, from its validation and test metrics; [] when all is well."""
    val_reals = int(((val or {}).get("counts") or {}).get("real", 0))
    test_reals = int(((test or {}).get("counts") or {}).get("real", 0))
    found = [
        validation_warning(val_reals, target_fpr) if val is not None else None,
        fpr_miss_warning((test or {}).get("false_positive_rate"), target_fpr, test_reals),
    ]
    return [w for w in found if w]
