"""The one run path: every architecture in the table trains through ``run_training``,
its artifact is written once, its card comes from ``aidetect.cards``, and its
recorded command parses back to the same run.
"""

from __future__ import annotations

import argparse
import shlex
import shutil

import pytest

import aidetect.registry
import aidetect_training.artifact
import aidetect_training.run
from aidetect.cards import model_card
from aidetect.datasets import list_samples
from aidetect.registry import Registry
from aidetect_training import architectures
from aidetect_training.cli import config_from_args, register
from aidetect_training.config import RunConfig
from aidetect_training.data import split_samples
from aidetect_training.ensemble import build_ensemble
from aidetect_training.run import resolve, run_training

TINY = {
    "svm": ["--svm-mode", "fast"],
    "cnn": ["--image-size", "16"],
    "resnet50": ["--image-size", "32", "--weights", "none", "--unfreeze", "2"],
    "patchnet": ["--image-size", "16", "--max-crops", "4", "--patches-per-image", "2"],
    "effnet-probe": ["--image-size", "32", "--effnet-stage", "2", "--effnet-weights", "none"],
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="aidetect")
    register(p.add_subparsers(dest="command"))
    return p


def parse(argv: list[str]) -> RunConfig:
    return resolve(config_from_args(parser().parse_args(argv)))


@pytest.fixture()
def writes(monkeypatch) -> dict[str, int]:
    """Count model-file and artifact writes (the real functions still run)."""
    counts = {"model_file": 0, "artifact": 0}

    def counting(module, name: str, key: str) -> None:
        real = getattr(module, name)

        def wrapper(*args, **kwargs):
            counts[key] += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, wrapper)

    counting(aidetect_training.run, "save_model_file", "model_file")
    counting(aidetect_training.artifact, "write_artifact", "artifact")
    counting(aidetect.registry, "write_artifact", "artifact")
    return counts


def test_the_table_lists_every_architecture_with_distinct_flags() -> None:
    assert set(architectures.TABLE) == {"svm", "cnn", "resnet50", "patchnet", "effnet-probe"}
    seen: set[str] = set()
    from aidetect_training.options import flags

    for arch in architectures.all_architectures():
        own = set(flags(arch.options))
        assert not own & seen, f"{arch.name} reuses {own & seen}"
        seen |= own
    assert not seen & set(flags(RunConfig))


@pytest.mark.parametrize("arch", list(TINY))
def test_each_architecture_through_the_one_run_path(arch, datasets, tmp_path, writes) -> None:
    data = datasets["cifake"]
    out = tmp_path / f"tiny-{arch}"
    argv = ["train", "--data", str(data), "--arch", arch, "--output", str(out), "--quiet"]
    argv += ["--epochs", "1", "--batch-size", "16", "--workers", "1", "--augment", "none"]
    cfg = parse([*argv, *TINY[arch]])
    meta = run_training(cfg)

    assert writes == {"model_file": 1, "artifact": 1}
    assert meta["architecture"] == arch
    registry = Registry(tmp_path)
    on_disk = registry.verify(out.name)  # the model file matches the metadata written once
    assert (out / "README.md").read_text() == model_card(on_disk)
    assert meta["metrics"]["test"]["n"] > 0 and meta["uncertain_band"] is not None

    # the recorded command is rebuilt from the options and parses back to the same run
    recorded = shlex.split(meta["command"])
    assert recorded[:2] == ["aidetect", "train"]
    again = parse([*recorded[1:], "--workers", "1", "--quiet"])
    assert again == cfg


def test_ensemble_written_once_and_survives_an_unreadable_file(datasets, tmp_path, writes):
    data = tmp_path / "data"
    shutil.copytree(datasets["manifest"], data)
    models = tmp_path / "models"
    for name in ("m-a", "m-b"):
        argv = ["train", "--data", str(data), "--arch", "svm", "--output", str(models / name)]
        argv += ["--quiet", "--workers", "1", "--augment", "none"]
        run_training(parse([*argv, "--seed", "0" if name == "m-a" else "1"]))
    writes.update(model_file=0, artifact=0)
    # one validation file is gone (unreadable: this failed the whole run before), one is
    # garbage (undecodable): the ensemble skips both, as evaluate and predict do
    samples = split_samples(list_samples(data), 0.15, 0.15, 0, root=data)
    gone, garbage = [s for s in samples if s.split == "val"][:2]
    gone.path.unlink()
    garbage.path.write_bytes(b"not an image")

    meta = build_ensemble(["m-a", "m-b"], models / "ens", data=data, progress=False)
    assert writes["artifact"] == 1
    n_val = sum(s.split == "val" for s in samples)
    assert meta["metrics"]["validation"]["n"] == n_val - 2
    on_disk = Registry(models).verify("ens")
    assert (models / "ens" / "README.md").read_text() == model_card(on_disk)
    assert "Members' validation AUC" in (models / "ens" / "README.md").read_text()
    assert meta["default"] is False
    # rebuilt into the folder of the served ensemble, it stays the served one
    import json

    meta_file = models / "ens" / "metadata.json"
    marked = {**json.loads(meta_file.read_text()), "default": True}
    meta_file.write_text(json.dumps(marked))
    again = build_ensemble(["m-a", "m-b"], models / "ens", progress=False)
    assert again["default"] is True and Registry(models).default_name() == "ens"


TINY_ARCH = """
from dataclasses import dataclass

from aidetect_training.keras_fit import Phase, Plan, keras_architecture
from aidetect_training.options import option


@dataclass
class TinyOptions:
    tiny_width: int = option(4, help="tiny: filters")


def spec(cfg):
    return cfg.spec("unit")  # its own input: pixels scaled to 0..1 by the preprocessing


def build(cfg, splits, spec):
    import keras

    inputs = keras.Input((spec.size, spec.size, 3))
    x = keras.layers.Conv2D(cfg.arch_options.tiny_width, 3, activation="relu")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(1, activation="sigmoid", dtype="float32")(x)
    model = keras.Model(inputs, outputs, name="tiny")
    return Plan(model, [Phase("train", cfg.epochs, 1e-3)], "A tiny test network.")


ARCHITECTURE = keras_architecture(
    "tiny", build, help="a test network", options=TinyOptions, default_size=16,
    default_policy="crops", input_spec=spec,
)
"""


def test_a_new_architecture_is_one_file_and_one_line(datasets, tmp_path, monkeypatch, writes):
    (tmp_path / "tiny_arch.py").write_text(TINY_ARCH)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(architectures.TABLE, "tiny", "tiny_arch")  # the one line

    from aidetect.cli import main

    out = tmp_path / "models" / "tiny-one"
    argv = ["train", "--data", str(datasets["artifact"]), "--arch", "tiny", "--output", str(out)]
    argv += ["--tiny-width", "3", "--epochs", "1", "--workers", "1", "--quiet"]
    assert main(argv) == 0
    meta = Registry(out.parent).verify("tiny-one")
    assert writes == {"model_file": 1, "artifact": 1}
    assert meta.architecture == "tiny" and meta.input is not None
    assert (meta.input.policy, meta.input.size, meta.input.scale) == ("crops", 16, "unit")
    assert "--tiny-width 3" in meta.command and "--policy crops" in meta.command
    assert (out / "README.md").read_text() == model_card(meta)


def test_choose_threshold_is_a_pure_function_of_validation_scores() -> None:
    import numpy as np

    from aidetect_training.artifact import choose_threshold

    y = np.array([0] * 100 + [1] * 100)
    p = np.concatenate([np.linspace(0.0, 0.6, 100), np.linspace(0.4, 1.0, 100)])
    t, band, rule = choose_threshold(y, p, 0.05)
    assert choose_threshold(y, p, 0.05) == (t, band, rule)  # same scores, same answer
    assert band is not None and band[0] <= t <= band[1]
    assert (p[y == 0] >= t).mean() <= 0.05 and "0.05" in rule
    assert choose_threshold(np.ones(5, int), np.linspace(0, 1, 5), 0.05)[:2] == (0.5, None)


def test_retraining_into_a_served_artifact_keeps_its_marks(datasets, tmp_path) -> None:
    """A run whose --output is the default (or legacy) model's folder replaces that model
    and stays the default: once, retraining into models/NAME wrote "default": false and the
    server fell back to another model without a word."""
    import json

    data = datasets["cifake"]
    argv = ["train", "--data", str(data), "--arch", "svm", "--quiet", "--epochs", "1",
            "--workers", "1", "--augment", "none", *TINY["svm"]]  # fmt: skip
    first = run_training(parse([*argv, "--output", str(tmp_path / "kept")]))
    assert first["default"] is False and first["legacy"] is False
    meta_file = tmp_path / "kept" / "metadata.json"
    meta = json.loads(meta_file.read_text())
    meta.update(default=True, legacy=True)
    meta_file.write_text(json.dumps(meta))
    again = run_training(parse([*argv, "--output", str(tmp_path / "kept")]))
    assert again["default"] is True and again["legacy"] is True
    assert Registry(tmp_path).default_name() == "kept"
    fresh = run_training(parse([*argv, "--output", str(tmp_path / "fresh")]))
    assert fresh["default"] is False
