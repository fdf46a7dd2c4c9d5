"""What the running app holds, typed: one ``AppState`` on ``app.state.aidetect``.

Routes reach it through the dependencies in ``api/deps.py``; nothing reads loose
attributes of ``app.state``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import FastAPI

from aidetect.inference import Detector
from aidetect.settings import Settings
from aidetect_server.app.budget import MemoryBudget
from aidetect_server.app.runner import InferenceRunner


@dataclass
class AppState:
    settings: Settings
    runner: InferenceRunner
    budget: MemoryBudget
    detector: Detector | None = None
    loaded_models: list[str] = field(default_factory=list)
    ready: bool = False
    not_ready_reason: str = "Models are loading."

    def mark_ready(self, detector: Detector, loaded: list[str]) -> None:
        self.detector, self.loaded_models, self.ready = detector, loaded, True

    def mark_failed(self, reason: str) -> None:
        self.detector, self.ready, self.not_ready_reason = None, False, reason


def app_state(app: FastAPI) -> AppState:
    return app.state.aidetect
