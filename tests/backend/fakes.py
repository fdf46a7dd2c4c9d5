"""A fake detector for HTTP-layer unit tests (injected with dependency_overrides).

It decodes with the real decoder (so input errors are the real ones) and answers
a fixed probability per model, so tests can assert exact API answers.
"""

from __future__ import annotations

import threading

from aidetect.errors import AIDetectError, UnknownModelError
from aidetect.imaging import DecodeLimits, decode_image
from aidetect.inference import Detector, image_info
from aidetect.registry import ModelMetadata, validate_name
from aidetect.results import DetectionResult, ModelRef, ModelScore
from aidetect.verdict import decide

META = {
    "fake-cnn": ModelMetadata(
        name="fake-cnn",
        architecture="cnn",
        version="9.9.9",
        format="keras",
        model_file="model.keras",
        sha256="0" * 64,
        input={"policy": "crops", "size": 64},
        threshold=0.5,
        uncertain_band=(0.3, 0.7),
        default=True,
        metrics={"test": {"accuracy": 0.91, "roc_auc": 0.97}},
        training_data={"generators": ["esrgan-slim-x2"]},
    ),
    "fake-resnet": ModelMetadata(
        name="fake-resnet",
        architecture="resnet50",
        version="1.0.0",
        format="keras",
        model_file="model.keras",
        sha256="1" * 64,
        input={"policy": "resize", "size": 200},
        threshold=0.6,
    ),
}
PROBS = {"fake-cnn": 0.8, "fake-resnet": 0.25}


class _Loaded:
    def __init__(self, meta):
        self.metadata = meta
        self.name = meta.name


class FakeRegistry:
    def load_all(self):
        return {n: _Loaded(m) for n, m in META.items()}


class FakeDetector:
    # the real decision rule (threshold override, band), not a copy
    decision_params = Detector.decision_params
    decision = Detector.decision

    def __init__(self, limits: DecodeLimits | None = None):
        self.registry = FakeRegistry()
        self.default_model = "fake-cnn"
        self.legacy_model = "fake-resnet"
        self.threshold_override = None
        self.limits = limits or DecodeLimits()
        self.calls: list[tuple[str, int]] = []
        self.block = threading.Event()
        self.block.set()

    def resolve(self, name):
        name = name or self.default_model
        validate_name(name)
        if name not in META:
            raise UnknownModelError(f"No model named {name!r}.")
        return _Loaded(META[name])

    def _one(self, data: bytes, name: str, heatmap: bool = False) -> DetectionResult:
        self.block.wait(10)
        image = decode_image(data, self.limits)
        meta = META[name]
        p = PROBS[name]
        verdict, decision = decide(p, meta.threshold, meta.uncertain_band, [])
        return DetectionResult(
            verdict=verdict,
            ai_probability=p,
            model=ModelRef(name=name, version=meta.version),
            models=[ModelScore(name=name, version=meta.version, ai_probability=p)],
            decision=decision,
            image=image_info(image),
            elapsed_ms=1.0,
            heatmap="data:image/png;base64,AAAA" if heatmap else None,
        )

    def detect(self, data, model=None, *, heatmap=False):
        name = self.resolve(model).name
        self.calls.append(("detect", 1))
        return self._one(data, name, heatmap)

    def detect_many(self, items, model=None):
        name = self.resolve(model).name
        self.calls.append(("detect_many", len(items)))
        out = []
        for data in items:
            try:
                out.append(self._one(data, name))
            except AIDetectError as exc:
                out.append(exc)
        return out
