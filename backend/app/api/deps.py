"""Dependencies injected into the routes (overridable in tests)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from aidetect.errors import NotReadyError
from aidetect.inference import Detector
from aidetect.settings import Settings
from backend.app.runner import InferenceRunner


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_detector(request: Request) -> Detector:
    detector = getattr(request.app.state, "detector", None)
    if detector is None or not getattr(request.app.state, "ready", False):
        raise NotReadyError(
            getattr(request.app.state, "not_ready_reason", None) or "The models are not loaded yet."
        )
    return detector


def get_runner(request: Request) -> InferenceRunner:
    return request.app.state.runner


SettingsDep = Annotated[Settings, Depends(get_settings)]
DetectorDep = Annotated[Detector, Depends(get_detector)]
RunnerDep = Annotated[InferenceRunner, Depends(get_runner)]
