"""``--engine ray``: the same rows as the plain CLI, from a Ray started in this process and
from a real two-node cluster on 127.0.0.1 (``ray start --head`` plus ``ray start --address``).

Needs the optional extra (``pip install -e '.[ray]'``, which scripts/test installs).
Nothing leaves loopback: usage statistics are off, no dashboard, nodes bound to 127.0.0.1,
a private token and a private temp folder per cluster.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aidetect.cli import main
from tests.conftest import REPO

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("ray") is None,
    reason="the Ray engine's extra is not installed: pip install -e '.[ray]'",
)
RAY = Path(sys.executable).with_name("ray")
#: One token for every Ray this test session starts: Ray reads it once per process.
TOKEN = secrets.token_hex(32)


@pytest.fixture
def ray_env(tmp_path_factory, monkeypatch):
    """Environment for Ray processes: loopback only, private token and temp folder."""
    temp = tmp_path_factory.mktemp("ray")
    env = {
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": TOKEN,
        "RAY_TMPDIR": str(temp),
        # what the engine sets for its private Ray (node address 127.0.0.1); set here so
        # that it is undone after the test; cluster nodes and their drivers get "1"
        "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return env


def _parquet(path: Path) -> list[dict]:
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pylist()


def _predict(tiny_models, folder, out: Path, *extra: str) -> list[dict]:
    args = ["predict", str(folder), "--models-dir", str(tiny_models), "--model", "tiny-ensemble"]
    assert main([*args, "--batch-size", "3", "-o", str(out), "--quiet", *extra]) == 0
    return _parquet(out) if out.suffix == ".parquet" else out.read_text().splitlines()


def test_ray_in_process_gives_the_plain_rows(tiny_models, folder, tmp_path, ray_env):
    plain = _predict(tiny_models, folder, tmp_path / "plain.csv")
    on_ray = _predict(
        tiny_models, folder, tmp_path / "ray.csv", "--engine", "ray", "--workers", "2"
    )
    assert on_ray == plain and len(plain) == 12  # header + 11 rows, byte for byte
    assert "broken.jpg,False" in plain[-1] or any("unsupported_media_type" in r for r in plain)
    import ray

    assert not ray.is_initialized()  # the engine shut its Ray down


@pytest.fixture
def ray_in_process(ray_env):
    """``ray.init()`` by the caller (a notebook's way): the engine uses it, leaves it up."""
    import ray

    ray.init(include_dashboard=False, num_cpus=2, object_store_memory=100_000_000)
    try:
        yield ray
    finally:
        ray.shutdown()


def test_evaluate_on_ray_writes_the_plain_report(tiny_models, tmp_path, ray_in_process):
    from PIL import Image

    from tests.support.tiny_models import toy_images

    x, y = toy_images(8, 32, seed=7)
    for i, (a, label) in enumerate(zip(x, y, strict=True)):
        d = tmp_path / "data" / ("FAKE" if label else "REAL")
        d.mkdir(parents=True, exist_ok=True)
        Image.fromarray(a).save(d / f"{i}.png")
    (tmp_path / "data" / "REAL" / "bad.png").write_bytes(b"no")
    reports = {}
    for engine in ("local", "ray"):
        report = tmp_path / engine
        args = ["evaluate", "--data", str(tmp_path / "data"), "--models-dir", str(tiny_models)]
        assert (
            main([*args, "--report", str(report), "--quiet", "--engine", engine, "--workers", "1"])
            == 0
        )
        metrics = json.loads((report / "metrics.json").read_text())
        metrics.pop("command", None), metrics.pop("plots", None)
        reports[engine] = (metrics, (report / "predictions.csv").read_text())
    assert reports["ray"] == reports["local"]
    assert ray_in_process.is_initialized()  # the caller's Ray, left running
    assert reports["ray"][0]["n"] == 8 and reports["ray"][0]["failures"] == 1


# --- a real cluster: two nodes on 127.0.0.1 ---------------------------------------------------
def _free_port() -> int:
    from benchmarks.common import free_port

    return free_port()


def _node(ip: str, args: list[str], env: dict, log: Path) -> subprocess.Popen:
    """``ray start --block`` on loopback address ``ip``: the node lives as long as this
    process, in a process group of its own, and is up once its log says so."""
    ports = [
        f"--{name}={_free_port()}"
        for name in (
            "node-manager-port",
            "object-manager-port",
            "dashboard-agent-listen-port",
            "dashboard-agent-grpc-port",
            "runtime-env-agent-port",
            "metrics-export-port",
        )
    ]
    cmd = [str(RAY), "start", "--block", f"--node-ip-address={ip}", "--num-cpus=1"]
    cmd += ["--object-store-memory=100000000", "--disable-usage-stats", *ports, *args]
    # a node joining a cluster needs this on (the private in-process Ray turns it off)
    env = {**os.environ, **env, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "1"}
    proc = subprocess.Popen(
        cmd,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.time() + 90
    while "Ray runtime started" not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.time() > deadline:
            _stop(proc)
            raise RuntimeError(f"Ray node {ip} did not start: {log.read_text()[-3000:]}")
        time.sleep(0.5)
    return proc


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the node's process group, SIGKILL if it is still draining after 5 s."""
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 10)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(wait)
            return


@pytest.fixture
def two_node_cluster(ray_env, tmp_path):
    """A head on 127.0.0.2 and a worker node on 127.0.0.3 (Ray replaces 127.0.0.1 itself
    with the machine's address; other loopback addresses it keeps), one CPU each."""
    port = _free_port()
    address = f"127.0.0.2:{port}"
    nodes = []
    try:
        head = ["--head", f"--port={port}", f"--ray-client-server-port={_free_port()}"]
        head += ["--include-dashboard=false", f"--temp-dir={ray_env['RAY_TMPDIR']}"]
        nodes.append(_node("127.0.0.2", head, ray_env, tmp_path / "head.log"))
        nodes.append(_node("127.0.0.3", [f"--address={address}"], ray_env, tmp_path / "node.log"))
        yield address
    finally:
        for proc in reversed(nodes):
            _stop(proc)


@pytest.mark.slow
def test_a_two_node_cluster_on_loopback_gives_the_plain_rows(
    tiny_models, folder, tmp_path, two_node_cluster, ray_env
):
    """The CLI as a user runs it (a child process), against the cluster, as many rows as
    files, equal to the plain CLI's, with one actor on each node."""
    plain = _predict(tiny_models, folder, tmp_path / "plain.parquet")
    out = tmp_path / "cluster.parquet"
    cmd = [sys.executable, "-m", "aidetect.cli", "predict", str(folder), "-o", str(out)]
    cmd += ["--models-dir", str(tiny_models), "--model", "tiny-ensemble", "--batch-size", "3"]
    cmd += ["--engine", "ray", "--address", two_node_cluster, "--workers", "2"]
    env = {**os.environ, **ray_env, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "1"}
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "10 image(s) scored, 1 error(s)" in run.stderr
    assert "ray: 100%" in run.stderr  # the progress bar counted every image
    on_cluster = _parquet(out)
    assert on_cluster == plain and len(plain) == 11
    assert [r["error_code"] for r in plain if not r["ok"]] == ["unsupported_media_type"]
    assert _actor_addresses(Path(ray_env["RAY_TMPDIR"])) == {"127.0.0.2", "127.0.0.3"}


def _actor_addresses(temp: Path) -> set[str]:
    """The node addresses the scoring actors ran on, from the cluster's logs (Ray 2.60's
    worker-<id>-<job>-<pid>.out names the actor; python-core-worker-<id>_<pid>.log its node)."""
    found = set()
    for out in temp.glob("session_*/logs/worker-*.out"):
        if ":actor_name:MapWorker(MapBatches(Scorer))" not in out.read_text(errors="replace"):
            continue
        worker_id, pid = out.stem.split("-")[1], out.stem.split("-")[-1]
        log = out.with_name(f"python-core-worker-{worker_id}_{pid}.log").read_text()
        found |= set(re.findall(r"Initializing worker at address: ([\d.]+):", log))
    return found
