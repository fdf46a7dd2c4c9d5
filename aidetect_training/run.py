"""One training run, from its configuration to its artifact (``aidetect train``).

``run_training(cfg)``:

1. resolves the architecture from the table (``aidetect_training/architectures.py``) and
   its input size;
2. lists the data (``aidetect.datasets.list_samples``), splits it
   (``aidetect_training.data.split_samples``) and prints counts per split, class and generator;
3. calls the architecture's ``train``, which returns a fitted model (``Trained``);
4. saves the model file, builds the metadata once, and hands both to
   ``aidetect_training.artifact.finish_artifact``: threshold on validation through the
   serving path, test report in ``<output>/report/``, then ``metadata.json`` and
   the model card written once.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import replace
from fnmatch import fnmatchcase
from typing import Any

from aidetect.cards import describe_counts, fmt
from aidetect.datasets import Sample, counts, detect_layout, list_samples
from aidetect.errors import AIDetectError
from aidetect.registry import save_model_file
from aidetect_training import architectures
from aidetect_training.artifact import data_meta, finish_artifact, serving_marks
from aidetect_training.config import RunConfig, Splits, Trained, log


def resolve(cfg: RunConfig) -> RunConfig:
    """The architecture's defaults (input size, policy, options) filled in, and checked."""
    arch = architectures.get(cfg.arch)
    size = cfg.image_size if cfg.image_size is not None else arch.default_size
    if size < arch.min_size:
        raise ValueError(f"{arch.name} needs an input of at least {arch.min_size}x{arch.min_size}")
    options = cfg.arch_options if cfg.arch_options is not None else arch.options()
    if not isinstance(options, arch.options):
        raise ValueError(f"{arch.name} takes {arch.options.__name__}, not {type(options)}")
    workers = cfg.workers or len(os.sched_getaffinity(0))  # 0: every core
    return replace(
        cfg,
        image_size=size,
        policy=cfg.policy or arch.default_policy,
        arch_options=options,
        workers=max(1, workers),
    )


def load_splits(cfg: RunConfig) -> Splits:
    from aidetect_training.data import split_samples, subset

    samples = list_samples(cfg.data)
    if not samples:
        raise AIDetectError(f"{cfg.data}: no images found")
    if cfg.limit:
        samples = subset(samples, cfg.limit, cfg.seed, root=cfg.data)
    samples = split_samples(samples, cfg.val, cfg.test, cfg.seed, root=cfg.data)
    if cfg.families:
        samples = [s for s in samples if s.label == 0 or family_selected(s, cfg.families)]
    parts = {k: [s for s in samples if s.split == k] for k in ("train", "val", "test")}
    if not parts["train"] or len({s.label for s in parts["train"]}) < 2:
        raise AIDetectError("the training split needs images of both classes")
    return Splits(layout=detect_layout(cfg.data), **parts)


def family_selected(sample: Sample, patterns: Sequence[str]) -> bool:
    """Whether an AI sample's family (else its generator) matches one of ``patterns``."""
    key = sample.family or sample.generator
    return any(fnmatchcase(key, p) for p in patterns)


def training_data_meta(cfg: RunConfig, splits: Splits) -> dict[str, Any]:
    from aidetect_training.data import class_weights

    weights = class_weights(splits.train) if cfg.class_weight == "auto" else None
    return {
        **data_meta(cfg.data, splits.as_dict()),
        "layout": splits.layout,
        "split_rule": (
            "existing split kept; otherwise sha256(seed:source_id or relative path), "
            f"seed {cfg.seed}, val {cfg.val}, test {cfg.test}"
        ),
        "class_weight": {str(k): round(v, 6) for k, v in weights.items()} if weights else None,
        "augment": list(cfg.augment),
        "families": list(cfg.families) or "all",
    }


def metadata(cfg: RunConfig, splits: Splits, trained: Trained) -> dict[str, Any]:
    """The artifact's metadata, but for what validation and test decide."""
    assert trained.input_spec is not None
    seconds = trained.train_seconds
    ips = trained.train_images / seconds if seconds > 0 else None
    return {
        "name": cfg.name,
        "architecture": trained.architecture,
        "version": cfg.version,
        "description": trained.description,
        "input": trained.input_spec.model_dump(),
        "output": "ai_probability",
        "training_data": training_data_meta(cfg, splits),
        "training": {
            **trained.details,
            "seconds": round(seconds, 2),
            "images_per_second": round(ips, 1) if ips else None,
            # rows the model learned from per second: several windows per decoded image
            "patches_per_second": round(ips * cfg.patches_per_image, 1) if ips else None,
            "seed": cfg.seed,
        },
        "command": cfg.command_line(),
    }


def summary(meta: dict[str, Any], cfg: RunConfig) -> str:
    """One screen: what was trained, on what, how well, and what to do next."""
    m = meta.get("metrics", {})
    test = m.get("test") or {}
    val = m.get("validation") or {}
    band = meta.get("uncertain_band")
    tr = meta.get("training", {})
    rows = [
        "",
        "=" * 72,
        f"trained  {meta['name']}  ({meta['architecture']}, input {meta['input']['policy']} "
        f"{meta['input']['size']}px)",
        f"artifact {cfg.output}",
        f"data     {describe_counts(meta['training_data']['splits'])}".replace("\n", "\n         "),
        f"time     {tr.get('seconds')} s, {fmt(tr.get('images_per_second'), 1)} images/s",
        f"decision threshold {fmt(meta['threshold'])} (FPR <= {cfg.target_fpr} on val), "
        f"uncertain band {f'[{band[0]:.3f}, {band[1]:.3f}]' if band else 'none'}",
        f"val      accuracy {fmt(val.get('accuracy'))}  AUC {fmt(val.get('roc_auc'))}  "
        f"AP {fmt(val.get('average_precision'))}",
        f"test     accuracy {fmt(test.get('accuracy'))}  AUC {fmt(test.get('roc_auc'))}  "
        f"AP {fmt(test.get('average_precision'))}  FPR {fmt(test.get('false_positive_rate'))}"
        f"  uncertain {fmt(test.get('uncertain_rate'))}",
        f"report   {cfg.output / 'report'}",
        "next     aidetect evaluate --data DIR --model " + str(cfg.output) + " --report REPORT",
        f"         aidetect serve --models-dir {cfg.output.parent}",
        "=" * 72,
    ]
    return "\n".join(rows)


def run_training(cfg: RunConfig) -> dict[str, Any]:
    """The whole run for ``aidetect train``; returns the artifact's metadata."""
    from aidetect_training.data import class_weights

    cfg = resolve(cfg)
    arch = architectures.get(cfg.arch)
    splits = load_splits(cfg)
    table = describe_counts({k: counts(v) for k, v in splits.as_dict().items()})
    log(cfg, f"data: {cfg.data} (layout {splits.layout})\n{table}")
    if cfg.class_weight == "auto":
        w = class_weights(splits.train)
        log(cfg, f"class weights (n / (2 n_c)): real {w[0]:.3f}, AI {w[1]:.3f}")
    kept = serving_marks(cfg.output)
    if kept:
        log(cfg, f"replacing {cfg.output}: the new model keeps its marks ({', '.join(kept)})")
    cfg.output.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    trained = arch.train(cfg, splits)
    if not trained.train_seconds:
        trained.train_seconds = time.perf_counter() - started
    result = finish_run(cfg, splits, trained, kept)
    log(cfg, summary(result, cfg))
    return result


def finish_run(
    cfg: RunConfig, splits: Splits, trained: Trained, marks: dict[str, bool] | None = None
) -> dict[str, Any]:
    """The model file, then the artifact written once; returns the final metadata."""
    meta = metadata(cfg, splits, trained)
    meta.update(marks or {})
    meta.update(
        save_model_file(
            cfg.output, keras_model=trained.keras_model, sklearn_model=trained.sklearn_model
        )
    )
    parts = {"val": splits.val, "test": splits.test or splits.val}
    note = None if splits.test else "no test split: this is the validation split"
    final = finish_artifact(
        cfg.output,
        meta,
        parts,
        target_fpr=cfg.target_fpr,
        progress=cfg.progress,
        test_note=note,
        threshold_variants=cfg.threshold_variants,
    )
    return final.model_dump(mode="json", exclude_none=True)
