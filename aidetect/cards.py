"""The model card (``README.md``) of every artifact, rendered from its metadata alone.

One renderer for trained models, ensembles and imported seed models:
``registry.write_artifact`` calls it, so a card always says what ``metadata.json``
says. Sections appear when the metadata has what they describe (training data,
validation and test metrics, members, the command that made it).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from aidetect.metadata import ModelMetadata

METRIC_ROWS = (
    "n",
    "accuracy",
    "roc_auc",
    "average_precision",
    "precision",
    "recall",
    "f1",
    "false_positive_rate",
    "uncertain_rate",
    "expected_calibration_error",
)

INTENDED_USE = (
    "Scores how likely an image is AI-generated (1 = AI-generated). It knows only the "
    "generators in its training data (below): expect much weaker results on other "
    "generators, on heavily re-compressed or resized images, and on content unlike the "
    "training set. A score is evidence, not proof; the uncertain band exists so that "
    "borderline images are not called fake."
)


def fmt(v: Any, digits: int = 4) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def metrics_table(metrics: dict[str, dict[str, Any] | None]) -> list[str]:
    """Markdown rows: one column per measured split."""
    cols = [k for k, v in metrics.items() if v]
    if not cols:
        return ["Not measured (no validation or test images)."]
    lines = ["| metric | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for k in METRIC_ROWS:
        lines.append(f"| {k} | " + " | ".join(fmt(metrics[c].get(k)) for c in cols) + " |")  # type: ignore[union-attr]
    return lines


def describe_counts(split_counts: dict[str, dict[str, Any]]) -> str:
    """One line per split: totals per class and generator (``aidetect.datasets.counts``)."""
    lines = []
    for name, c in split_counts.items():
        pc = c["per_class"]
        gens = ", ".join(f"{g} {n}" for g, n in c["per_generator"].items())
        lines.append(
            f"{name:<5} {c['total']:>8} images  real {pc.get('real', 0):>7}  "
            f"AI {pc.get('ai_generated', 0):>7}  generators: {gens or '-'}"
        )
    return "\n".join(lines)


def _input(meta: ModelMetadata) -> list[str]:
    if meta.members:
        return [
            f"Rule `{meta.ensemble_rule}` over: "
            + ", ".join(f"`{m.name}` (weight {m.weight:.3f})" for m in meta.members)
            + (f"; {meta.weight_rule}." if getattr(meta, "weight_rule", None) else "."),
        ]
    spec = meta.input
    if spec is None:
        return []
    pooled = spec.crops.aggregate
    if pooled == "top_logit":
        pooled += f" (mean logit of the top {spec.crops.top_fraction:.0%} of crops)"
    crops = f", up to {spec.crops.max_crops} crops, {pooled}" if spec.policy == "crops" else ""
    return [
        f"- policy `{spec.policy}`, {spec.size}x{spec.size}, scale `{spec.scale}`{crops}",
        "- decoding and preprocessing: `aidetect.imaging` and `aidetect.preprocess` "
        "(the same code in training and serving)",
        f"- output: `{meta.output}`; label convention: {meta.label_convention}",
    ]


def _training(meta: ModelMetadata) -> list[str]:
    td = meta.training_data
    if not td:
        return []
    lines = ["## Training data", ""]
    if "dataset" not in td:  # recorded by hand: show it as it is
        return [*lines, "```json", json.dumps(td, indent=2), "```", ""]
    rule = f" (layout `{td['layout']}`)" if td.get("layout") else ""
    split_rule = f"; split rule: {td['split_rule']}" if td.get("split_rule") else ""
    lines += [f"`{td['dataset']}`{rule}{split_rule}.", ""]
    if td.get("splits"):
        lines += ["```", describe_counts(td["splits"]), "```", ""]
    if "class_weight" in td:
        lines.append(f"- class weights: {td['class_weight'] or 'none'}")
    if "augment" in td:
        lines.append(f"- augmentation: {', '.join(td['augment']) or 'none'}")
    tr = getattr(meta, "training", None)
    if tr:
        lines.append(
            f"- training time {tr.get('seconds')} s, "
            f"{fmt(tr.get('images_per_second'), 1)} images/s "
            f"(end to end from files, {tr.get('device', 'CPU')})"
        )
        links = []
        src = tr.get("init_from")
        while isinstance(src, dict):  # started from another model's weights, and so on
            links.append(
                f"{src.get('name')} {src.get('version')} (SHA-256 {str(src.get('sha256'))[:12]}...)"
            )
            src = src.get("init_from")
        if links:
            lines.append(
                "- started from the weights of "
                + ", which started from ".join(links)
                + " (`training.init_from` in metadata.json holds each one's command); "
                "the training time is this run's only"
            )
    return [*lines, ""]


def _metrics(meta: ModelMetadata) -> list[str]:
    m = meta.metrics
    if not m:
        return []
    lines = ["## Metrics", ""]
    if not {"validation", "test"} & set(m):  # recorded by hand: show them as they are
        return [*lines, "```json", json.dumps(m, indent=2), "```", ""]
    if m.get("target_fpr") is not None:
        lines += [
            f"Threshold chosen on validation for a false-positive rate of {m['target_fpr']}.",
            "",
        ]
    lines += [*metrics_table({"validation": m.get("validation"), "test": m.get("test")}), ""]
    if m.get("members_validation_auc"):
        lines += [
            "Members' validation AUC: "
            + ", ".join(f"{k} {fmt(v)}" for k, v in m["members_validation_auc"].items()),
            "",
        ]
    test = m.get("test") or {}
    if test.get("per_generator"):
        lines += ["Per generator (test):", "", "| generator | n | detection rate | AUC vs real |"]
        lines.append("|---|---|---|---|")
        for g, e in test["per_generator"].items():
            lines.append(
                f"| {g} | {e['n']} | {fmt(e['detection_rate'])} | {fmt(e.get('roc_auc_vs_real'))} |"
            )
        lines.append("")
    if test:
        lines += ["The full test report (predictions, plots) is in `report/`.", ""]
    return lines


def _scope(meta: ModelMetadata) -> list[str]:
    """What the model was trained on and how it did on generators it never saw."""
    scope = getattr(meta, "scope", None)
    if not scope:
        return []
    if not isinstance(scope, dict):
        scope = scope.model_dump() if hasattr(scope, "model_dump") else dict(scope)
    lines = ["## Generators it has and has not seen", ""]
    trained = scope.get("trained_on") or []
    if trained:
        lines.append(
            "Trained on: "
            + ", ".join(f"{t['family']} ({t['kind']}, {t['images']} images)" for t in trained)
            + "."
        )
        lines.append("")
    held = scope.get("held_out") or []
    if held:
        lines += _figures_table(
            "Held out of training, scored against real test photos:",
            ("family", "kind", "n", "ROC-AUC", "detected at the threshold"),
            [
                (h["family"], h["kind"], h["n"], fmt(h.get("roc_auc"), 3),
                 fmt(h.get("detection_rate"), 3))
                for h in held
            ],
            held,
        )  # fmt: skip
    robust = scope.get("robustness") or []
    if robust:
        lines += _figures_table(
            "Its test pictures passed on as people pass pictures on (both classes alike), at "
            "the threshold. A JPEG upload's answer reads the nearest JPEG row, a lossy WebP's "
            "the mildest WebP row: where re-saving cost more than half of the detections, a "
            "low score is answered `uncertain`, not `real` (rule `lossy_compression`):",
            ("copy", "AI / real pictures", "ROC-AUC", "AI detected", "real called AI"),
            [
                (r["variant"], f"{r['n_ai']} / {r['n_real']}", fmt(r.get("roc_auc"), 3),
                 fmt(r.get("detection_rate"), 3), fmt(r.get("false_positive_rate"), 3))
                for r in robust
            ],
            robust,
        )  # fmt: skip
    if scope.get("note"):
        lines += [scope["note"], ""]
    return lines


def _figures_table(
    intro: str, header: Sequence[str], rows: Sequence[Sequence[Any]], figures: Sequence[dict]
) -> list[str]:
    """An introduced Markdown table, then the test sets its figures were measured on."""
    lines = [intro, "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    lines.append("")
    sets = sorted({f.get("test_set", "") for f in figures} - {""})
    if sets:
        lines += [f"Test set: {'; '.join(sets)}.", ""]
    return lines


def model_card(meta: ModelMetadata) -> str:
    """``README.md`` for an artifact, with the numbers its metadata records."""
    band = meta.uncertain_band
    rule = getattr(meta, "threshold_rule", None)
    lines = [
        f"# {meta.name} ({meta.architecture}, v{meta.version})",
        "",
        meta.description or "No description given.",
        "",
        *[f"**Warning:** {w}." for w in getattr(meta, "warnings", None) or []],
        *([""] if getattr(meta, "warnings", None) else []),
        "## Intended use and limits",
        "",
        INTENDED_USE,
        "",
        "## Input" if not meta.members else "## Members",
        "",
        *_input(meta),
        "",
        "## Decision",
        "",
        f"- threshold **{meta.threshold:.4f}**" + (f" ({rule})" if rule else ""),
        f"- uncertain band: {f'[{band[0]:.4f}, {band[1]:.4f}]' if band else 'none'}",
        "",
        *_training(meta),
        *_scope(meta),
        *_metrics(meta),
    ]
    if meta.command:
        lines += ["## Reproduce", "", "```", meta.command, "```", ""]
    lines += ["Framework versions are in `metadata.json`.", ""]
    return "\n".join(lines)
