"""A seeded corpus of 1,000+ broken and hostile images against the core and the real app.

Zero crashes (only typed errors in the core, only 200/400/413/415 from the API), and
every file bounded in time and in memory. ``AIDETECT_FUZZ_N`` sets the number of
seeded mutations (default 800); ``scripts/bench --fuzz`` runs far larger corpora.
"""

from __future__ import annotations

import os

import pytest
from fastapi.testclient import TestClient

from aidetect.imaging import DEFAULT_LIMITS
from aidetect.inference import Detector
from aidetect.registry import Registry
from aidetect.settings import Settings
from aidetect_server.app.main import create_app
from tests.fuzz.corpus import corpus, hostile_cases
from tests.fuzz.runner import run_app, run_core

# Pillow warns about every corrupt EXIF tag it skips: expected here, and noisy
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")
N_RANDOM = int(os.environ.get("AIDETECT_FUZZ_N", "800"))
SEED = int(os.environ.get("AIDETECT_FUZZ_SEED", "0"))
#: the costliest legal input (just under 50 MP) peaks near 10 bytes a pixel, decoded and
#: converted; nothing may go past 16 bytes a pixel of the pixel limit.
MAX_PEAK_MB = 16 * DEFAULT_LIMITS.max_pixels / 2**20
#: far below the server's per-request timeout (60 s): a hostile file must be cheap
MAX_SECONDS = 15.0


@pytest.fixture(scope="module")
def rows():
    return corpus(N_RANDOM, SEED)


@pytest.fixture(scope="module")
def detector(tiny_models):
    det = Detector(Registry(tiny_models), default_model="tiny-cnn", decode_threads=1)
    det.load_all()
    return det


def test_corpus_is_large_and_varied(rows):
    assert len(rows) >= 1000
    categories = {c for c, _, _ in rows}
    for needed in ("tiny", "huge-dims", "text-bomb", "exif", "xmp", "frames", "polyglot"):
        assert needed in categories
    assert {"truncated", "bit-flipped"} <= categories


def test_core_never_crashes_and_stays_bounded(detector, rows):
    report = run_core(detector, rows)
    assert not report.crashes, "\n".join(map(str, report.crashes[:20]))
    slow = [o for o in report.outcomes if o.seconds > MAX_SECONDS]
    assert not slow, slow
    hungry = [o for o in report.outcomes if (o.peak_rss_delta_mb or 0) > MAX_PEAK_MB]
    assert not hungry, hungry
    results = report.results()
    assert results["ok"] > 0 and results["undecodable_image"] > 0
    assert results["unsupported_media_type"] > 0 and results["too_many_pixels"] > 0


@pytest.fixture(scope="module")
def client(tiny_models):
    app = create_app(Settings(models_dir=tiny_models, frontend_dist="/nonexistent"))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_api_answers_every_hostile_file_without_5xx(client, rows):
    # the hand-made cases plus every eighth mutation as single uploads (the core test
    # above already ran every row through the same code)
    sample = hostile_cases() + rows[len(hostile_cases()) :: 8]
    report = run_app(client, sample)
    assert not report.crashes, "\n".join(map(str, report.crashes[:20]))
    slow = [o for o in report.outcomes if o.seconds > MAX_SECONDS]
    assert not slow, slow


def test_batch_of_hostile_files_answers_per_file(client):
    cases = hostile_cases()[::9][:32]
    files = [("files", (f"{name}.bin", data)) for _, name, data in cases]
    r = client.post("/api/v1/detect/batch", files=files)
    assert r.status_code == 200, r.text[:500]
    results = r.json()["results"]
    assert len(results) == len(cases)
    assert all(x["ok"] or x["error"]["code"] for x in results)


def test_base64_json_path_with_hostile_files(client):
    import base64

    for _, name, data in hostile_cases()[::15]:
        r = client.post("/api/v1/detect", json={"image": base64.b64encode(data).decode()})
        assert r.status_code in (200, 400, 413, 415), (name, r.status_code, r.text[:300])
        r = client.post("/", json={"bytes_data": base64.b64encode(data).decode()})
        assert r.status_code in (200, 400, 413, 415), (name, r.status_code, r.text[:300])
