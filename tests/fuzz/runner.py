"""Feed a corpus to the core library and to the app; record crashes, time and memory.

Used by ``tests/fuzz/test_hostile_images.py`` (bounded corpus) and by
``scripts/bench --fuzz`` (as large as you like).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.fuzz.corpus import Row

#: statuses a hostile upload may get from /api/v1/detect
ACCEPTABLE = {200, 400, 413, 415}


def _status_kb(key: str) -> int:
    m = re.search(rf"{key}:\s+(\d+)", Path("/proc/self/status").read_text())
    return int(m.group(1)) if m else 0


def reset_peak_rss() -> bool:
    """Reset this process's peak RSS (Linux ``clear_refs``); False where unsupported."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


@dataclass
class Outcome:
    category: str
    name: str
    size: int
    result: str  # "ok", an error code, or "CRASH <type>"
    seconds: float
    peak_rss_delta_mb: float | None


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def crashes(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.result.startswith("CRASH")]

    def slowest(self, n: int = 5) -> list[Outcome]:
        return sorted(self.outcomes, key=lambda o: -o.seconds)[:n]

    def hungriest(self, n: int = 5) -> list[Outcome]:
        return sorted(self.outcomes, key=lambda o: -(o.peak_rss_delta_mb or 0))[:n]

    def results(self) -> Counter:
        return Counter(o.result for o in self.outcomes)


def run_core(detector, rows: list[Row], model: str | None = None) -> Report:
    """``Detector.detect`` on each row: a typed ``AIDetectError`` is fine, anything else a crash."""
    from aidetect.errors import AIDetectError

    report = Report()
    measure = reset_peak_rss()
    for category, name, data in rows:
        base = _status_kb("VmRSS") if measure else 0
        if measure:
            reset_peak_rss()
        t = time.perf_counter()
        try:
            detector.detect(data, model)
            result = "ok"
        except AIDetectError as exc:
            result = exc.code
        except Exception as exc:
            result = f"CRASH {type(exc).__name__}: {str(exc)[:200]}"
        seconds = time.perf_counter() - t
        peak = (_status_kb("VmHWM") - base) / 1024 if measure else None
        report.outcomes.append(Outcome(category, name, len(data), result, seconds, peak))
    return report


def run_app(client, rows: list[Row], path: str = "/api/v1/detect") -> Report:
    """Each row as one multipart upload; a status outside ``ACCEPTABLE`` counts as a crash."""
    report = Report()
    for category, name, data in rows:
        t = time.perf_counter()
        r = client.post(path, files={"file": (f"{name}.bin", data, "application/octet-stream")})
        seconds = time.perf_counter() - t
        body = r.json()
        if r.status_code in ACCEPTABLE and (r.status_code == 200 or "code" in body):
            result = "ok" if r.status_code == 200 else f"{r.status_code} {body['code']}"
        else:
            result = f"CRASH status {r.status_code}: {str(body)[:200]}"
        report.outcomes.append(Outcome(category, name, len(data), result, seconds, None))
    return report
