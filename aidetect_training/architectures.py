"""The architecture table: name -> the module that defines it.

Each module defines ``ARCHITECTURE = Architecture(...)`` (``aidetect_training.config``):
its ``train(cfg, splits)``, its options dataclass (its flags on ``aidetect
train``), its default input size. The run (``aidetect_training/run.py``) and the command
line read this table; nothing else names an architecture. Modules are imported
when asked for, and keep Keras / scikit-learn imports inside their functions, so
``aidetect --help`` stays instant.
"""

from __future__ import annotations

import importlib

from aidetect_training.config import Architecture

TABLE: dict[str, str] = {
    "svm": "aidetect_training.svm",
    "cnn": "aidetect_training.cnn",
    "resnet50": "aidetect_training.resnet50",
    "patchnet": "aidetect_training.patchnet",
    "effnet-probe": "aidetect_training.effnet_probe",
}


def get(name: str) -> Architecture:
    if name not in TABLE:
        raise ValueError(f"unknown architecture {name!r}; choose from {', '.join(TABLE)}")
    arch = importlib.import_module(TABLE[name]).ARCHITECTURE
    assert isinstance(arch, Architecture) and arch.name == name, TABLE[name]
    return arch


def all_architectures() -> list[Architecture]:
    return [get(name) for name in TABLE]
