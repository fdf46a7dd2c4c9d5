"""Dependencies injected into the routes (overridable in tests)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from aidetect.errors import NotReadyError
from aidetect.inference import Detector
from aidetect.settings import Settings
from aidetect_server.app.runner import InferenceRunner
from aidetect_server.app.state import AppState, app_state


def get_state(request: Request) -> AppState:
    return app_state(request.app)


def get_settings(request: Request) -> Settings:
    return get_state(request).settings


def get_detector(request: Request) -> Detector:
    state = get_state(request)
    if state.detector is None or not state.ready:
        raise NotReadyError(state.not_ready_reason or "The models are not loaded yet.")
    return state.detector


def get_runner(request: Request) -> InferenceRunner:
    return get_state(request).runner


SettingsDep = Annotated[Settings, Depends(get_settings)]
DetectorDep = Annotated[Detector, Depends(get_detector)]
RunnerDep = Annotated[InferenceRunner, Depends(get_runner)]
