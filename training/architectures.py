"""The architecture table: name -> the module that defines it.

Each module defines ``ARCHITECTURE = Architecture(...)`` (``training.config``):
its ``train(cfg, splits)``, its options dataclass (its flags on ``aidetect
train``), its default input size. The run (``training/run.py``) and the command
line read this table; nothing else names an architecture. Modules are imported
when asked for, and keep Keras / scikit-learn imports inside their functions, so
``aidetect --help`` stays instant.
"""

from __future__ import annotations

import importlib

from training.config import Architecture

TABLE: dict[str, str] = {
    "svm": "training.svm",
    "cnn": "training.cnn",
    "resnet50": "training.resnet50",
    "patchnet": "training.patchnet",
}


def get(name: str) -> Architecture:
    if name not in TABLE:
        raise ValueError(f"unknown architecture {name!r}; choose from {', '.join(TABLE)}")
    arch = importlib.import_module(TABLE[name]).ARCHITECTURE
    assert isinstance(arch, Architecture) and arch.name == name, TABLE[name]
    return arch


def all_architectures() -> list[Architecture]:
    return [get(name) for name in TABLE]
