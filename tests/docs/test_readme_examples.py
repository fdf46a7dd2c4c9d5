"""Every README example that talks to the server runs as printed against a real one.

The shell and Python blocks are read from README.md itself (only the server's address
is swapped for the test server's), in a folder holding the files they name:
``photo.jpg`` is a 10 MB photograph-like JPEG, the size that broke the old
``-d "$(base64 ...)"`` examples with "Argument list too long".
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tests.conftest import REPO
from tests.support import images
from tests.support.server import running_server

pytestmark = pytest.mark.slow

README = (REPO / "README.md").read_text()
ADDRESS = "http://localhost:8000"


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.DOTALL)


def shell_examples() -> list[str]:
    """Each command line of a bash block that calls the server."""
    return [
        line.strip()
        for block in blocks("bash")
        for line in block.splitlines()
        if ADDRESS in line and line.lstrip().startswith(("curl ", "{ "))
    ]


def python_examples() -> list[str]:
    return [b for b in blocks("python") if ADDRESS in b]


def big_photo(target_bytes: int = 10_000_000) -> bytes:
    """A photograph-like JPEG of at least ``target_bytes`` (smooth scene + sensor noise)."""
    h, w = 2800, 3800
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    scene = np.stack(
        [
            128 + 90 * np.sin(xx / 310.0) * np.cos(yy / 270.0),
            120 + 70 * np.cos(xx / 190.0 + yy / 420.0),
            110 + 60 * np.sin((xx + yy) / 520.0),
        ],
        -1,
    )
    arr = np.clip(scene + rng.normal(0, 9, scene.shape), 0, 255).astype(np.uint8)
    data = images.encode(Image.fromarray(arr), "JPEG", quality=98, subsampling=0)
    assert len(data) >= target_bytes, len(data)
    return data


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(REPO / "models", tmp_path_factory.mktemp("readme")) as srv:
        yield srv


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("examples")
    (d / "photo.jpg").write_bytes(big_photo())
    (d / "a.jpg").write_bytes(images.jpeg())
    (d / "b.png").write_bytes(images.png())
    return d


def test_the_readme_has_the_examples():
    shell = shell_examples()
    assert len(shell) >= 6 and any("bytes_data" in c for c in shell)
    assert any('"image"' in c and "-d @-" in c for c in shell)
    assert python_examples()


@pytest.mark.parametrize("command", shell_examples())
def test_shell_example_runs_as_printed(command, server, workdir):
    run = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command.replace(ADDRESS, server["url"])],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    answer = json.loads(run.stdout)
    assert "code" not in answer, answer  # an error body would still exit 0 in curl
    assert {"verdict", "results", "models", "result_resnet"} & set(answer), answer


@pytest.mark.parametrize("code", python_examples())
def test_python_example_runs_as_printed(code, server, workdir):
    # The example needs nothing beyond the standard library: run it with -S -I
    # (no site-packages, no user paths), as a bare Python would.
    run = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code.replace(ADDRESS, server["url"])],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    first = run.stdout.splitlines()[0].split()
    assert first[0] in {"ai_generated", "real", "uncertain", "out_of_scope"}
    assert 0.0 <= float(first[1]) <= 1.0
