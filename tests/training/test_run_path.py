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
import training.artifact
import training.run
from aidetect.cards import model_card
from aidetect.datasets import list_samples
from aidetect.registry import Registry
from training import architectures
from training.cli import config_from_args, register
from training.config import RunConfig
from training.data import split_samples
from training.ensemble import build_ensemble
from training.run import resolve, run_training

TINY = {
    "svm": ["--svm-mode", "fast"],
    "cnn": ["--image-size", "16"],
    "resnet50": ["--image-size", "32", "--weights", "none", "--unfreeze", "2"],
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

    counting(training.run, "save_model_file", "model_file")
    counting(training.artifact, "write_artifact", "artifact")
    counting(aidetect.registry, "write_artifact", "artifact")
    return counts


def test_the_table_lists_every_architecture_with_distinct_flags() -> None:
    assert set(architectures.TABLE) == {"svm", "cnn", "resnet50"}
    seen: set[str] = set()
    from training.options import flags

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
    # one validation image becomes unreadable garbage: the ensemble skips it
    samples = split_samples(list_samples(data), 0.15, 0.15, 0, root=data)
    broken = next(s for s in samples if s.split == "val")
    broken.path.write_bytes(b"not an image")

    meta = build_ensemble(["m-a", "m-b"], models / "ens", data=data, progress=False)
    assert writes["artifact"] == 1
    n_val = sum(s.split == "val" for s in samples)
    assert meta["metrics"]["validation"]["n"] == n_val - 1
    on_disk = Registry(models).verify("ens")
    assert (models / "ens" / "README.md").read_text() == model_card(on_disk)
    assert "Members' validation AUC" in (models / "ens" / "README.md").read_text()
