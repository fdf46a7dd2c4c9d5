"""Memory under big batches, abandoned requests and slow clients (issue #13).

Runs a real ``aidetect serve`` on 127.0.0.1 (or, with ``--url`` and ``--container``,
the compose stack) and samples the server's memory every 50 ms: the process's RSS
from /proc, or the container's cgroup ``memory.current``. Scenarios:

``idle``          after start-up and a few small requests, settled.
``one-batch``     one maximal batch: 32 PNGs of ~19.5 MB (6.5 MP of noise each).
``three-batches`` three such batches at once.
``abandoned``     three such batches whose clients hang up 3 s after sending; how
                  long the server keeps working (its CPU time) and what it holds after.
``slow-clients``  150 slow connections (half dribble a header, half a body) for 60 s
                  while 8 clients send 2 MP JPEGs; p95 against the same 8 clients
                  unloaded; every non-200 status counted.

"Settled" is the memory 10 s after a scenario ends. Goals (the issue's): peak under
budget + model size + 300 MB; settled within 20% of idle; p95 under slow clients below
2x unloaded; no 5xx other than 503 ``overloaded``. Writes
``benchmarks/results/memory[-<label>].json`` and a ``reliability:memory[-<label>]``
section of ``docs/reliability.md``.

    .venv/bin/python -m benchmarks.memory [--budget-mb 1536] [--quick]
    .venv/bin/python -m benchmarks.memory --url http://127.0.0.1:8080 \\
        --container aidetect-backend-1 --budget-mb 1536 --label compose
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

from benchmarks.common import (
    REPO,
    aidetect_server,
    jpeg_bytes,
    loadavg,
    machine,
    md_table,
    pct,
    replace_section,
    rss_mb,
)

DOC = REPO / "docs" / "reliability.md"
SETTLE_S = 10.0


# --- memory of the server ---------------------------------------------------------------------
def container_id(name: str) -> str:
    return subprocess.run(
        ["docker", "inspect", "-f", "{{.Id}}", name], capture_output=True, text=True, check=True
    ).stdout.strip()


def container_memory(name: str) -> Callable[[], float]:
    """The container's cgroup memory less its inactive file cache (what ``docker stats``
    shows and what the limit presses on), in MB; cgroup v2 or v1."""
    cid = container_id(name)
    for base in (
        Path(f"/sys/fs/cgroup/system.slice/docker-{cid}.scope"),
        Path(f"/sys/fs/cgroup/docker/{cid}"),
    ):
        if (base / "memory.current").exists():
            usage, inactive = base / "memory.current", "inactive_file"
            break
    else:
        base = Path(f"/sys/fs/cgroup/memory/docker/{cid}")
        usage, inactive = base / "memory.usage_in_bytes", "total_inactive_file"
        if not usage.exists():
            raise RuntimeError(f"no cgroup memory files for {name} ({cid})")

    def read() -> float:
        stat = dict(line.split() for line in (base / "memory.stat").read_text().splitlines())
        return (int(usage.read_text()) - int(stat.get(inactive, 0))) / 1024 / 1024

    return read


def container_cpu_s(name: str) -> Callable[[], float]:
    cid = container_id(name)
    v1 = Path(f"/sys/fs/cgroup/cpuacct/docker/{cid}/cpuacct.usage")
    if v1.exists():
        return lambda: int(v1.read_text()) / 1e9
    for base in (
        Path(f"/sys/fs/cgroup/system.slice/docker-{cid}.scope"),
        Path(f"/sys/fs/cgroup/docker/{cid}"),
    ):
        if (base / "cpu.stat").exists():

            def read(base: Path = base) -> float:
                stat = dict(line.split() for line in (base / "cpu.stat").read_text().splitlines())
                return int(stat["usage_usec"]) / 1e6

            return read
    raise RuntimeError(f"no cgroup cpu files for {name}")


def oom_killed(name: str) -> dict:
    out = subprocess.run(
        [
            "docker",
            "inspect",
            "-f",
            "{{.State.OOMKilled}} {{.RestartCount}} {{.State.StartedAt}}",
            name,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return {"oom_killed": out[0] == "true", "restarts": int(out[1]), "started_at": out[2]}


def process_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0  # utime + stime, clock ticks


class Sampler:
    """Samples memory every 50 ms in a thread; ``peak`` since the last ``reset``."""

    def __init__(self, read: Callable[[], float]) -> None:
        self.read, self.peak, self.last = read, 0.0, read()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.last = self.read()
            except (OSError, ValueError):
                return
            self.peak = max(self.peak, self.last)
            time.sleep(0.05)

    def reset(self) -> None:
        self.peak = self.last = self.read()

    def settled(self) -> float:
        time.sleep(SETTLE_S)
        return self.read()

    def stop(self) -> None:
        self._stop.set()


# --- requests ---------------------------------------------------------------------------------
def noise_png(side: int, seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (side, side, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "PNG", compress_level=0)
    return buf.getvalue()


def batch_files(pngs: list[bytes], n: int) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (f"f{i}.png", pngs[i % len(pngs)], "image/png")) for i in range(n)]


async def post_batch(url: str, files, timeout: float = 600) -> tuple[int, str, float]:
    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=timeout) as client:
        r = await client.post(url + "/api/v1/detect/batch", files=files)
    code = r.json().get("code", "") if r.status_code != 200 else ""
    return r.status_code, code, time.perf_counter() - started


def abandoned_batch(url: str, files, hang_up_after: float) -> str:
    """Send a whole batch, then close the connection before the answer."""
    request = httpx.Request("POST", url + "/api/v1/detect/batch", files=files)
    body = request.read()
    host, port = url.split("//")[1].split(":")
    head = (
        f"POST /api/v1/detect/batch HTTP/1.1\r\nHost: {host}\r\n"
        f"Content-Type: {request.headers['content-type']}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port))) as s:
        try:
            s.sendall(head + body)
        except (BrokenPipeError, ConnectionResetError):  # refused while the body was sent
            s.settimeout(5)
            try:
                answer = s.recv(64)
            except OSError:
                answer = b""
            return "refused: " + (answer.decode("latin-1")[9:12] or "closed")
        s.settimeout(hang_up_after)
        try:
            answer = s.recv(64)
        except TimeoutError:
            return "hung up"
    return "answered before hang-up: " + answer.decode("latin-1")[9:12]


async def slow_client(
    url: str, kind: str, until: float, stats: Counter, source: str | None = None
) -> None:
    """Dribble a header (or a body) one byte a second; reconnect when cut off."""
    host, port = url.split("//")[1].split(":")
    while time.monotonic() < until:
        try:
            reader, writer = await asyncio.open_connection(
                host, int(port), local_addr=(source, 0) if source else None
            )
        except OSError:
            stats["connect refused"] += 1
            await asyncio.sleep(1)
            continue
        stats["connections"] += 1
        if kind == "header":
            head = f"POST /api/v1/detect HTTP/1.1\r\nHost: {host}\r\nX-Slow: "
            trickle = b"a" * 10_000
        else:
            head = (
                f"POST /api/v1/detect HTTP/1.1\r\nHost: {host}\r\n"
                "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
            )
            trickle = b'{"image": "' + b"A" * 99_000
        try:
            writer.write(head.encode())
            await writer.drain()
            for i in range(len(trickle)):
                if time.monotonic() >= until:
                    break
                writer.write(trickle[i : i + 1])
                await writer.drain()
                if reader.at_eof():
                    break
                try:
                    answer = await asyncio.wait_for(reader.read(64), timeout=1.0)
                except TimeoutError:
                    continue
                if answer:
                    stats[f"{kind}: answered {answer[9:12].decode('latin-1')}"] += 1
                else:
                    stats[f"{kind}: closed"] += 1
                break
        except (ConnectionError, OSError):
            stats[f"{kind}: reset"] += 1
        finally:
            writer.close()


async def normal_clients(
    url: str, n: int, seconds: float, image: bytes, source: str | None = None
) -> tuple[list[float], Counter]:
    latencies: list[float] = []
    statuses: Counter = Counter()
    until = time.monotonic() + seconds

    async def one(client: httpx.AsyncClient) -> None:
        while time.monotonic() < until:
            started = time.perf_counter()
            try:
                r = await client.post(
                    url + "/api/v1/detect", files={"file": ("p.jpg", image, "image/jpeg")}
                )
            except httpx.HTTPError as exc:
                statuses[type(exc).__name__] += 1
                continue
            code = r.json().get("code", "") if r.status_code != 200 else ""
            statuses[f"{r.status_code} {code}".strip()] += 1
            if r.status_code == 200:
                latencies.append(time.perf_counter() - started)

    transport = httpx.AsyncHTTPTransport(local_address=source) if source else None
    async with httpx.AsyncClient(timeout=120, transport=transport) as client:
        await asyncio.gather(*(one(client) for _ in range(n)))
    return latencies, statuses


# --- the scenarios ----------------------------------------------------------------------------
def run_all(url: str, sampler: Sampler, cpu: Callable[[], float] | None, a) -> dict:
    out: dict = {}
    base = url
    side = 1200 if a.quick else 2550  # 2550^2 x 3 = 19.5 MB of noise: a PNG of ~19.5 MB
    pngs = [noise_png(side, seed) for seed in range(4)]
    files = batch_files(pngs, a.files)
    upload_mb = sum(len(f[1][1]) for f in files) / 1024 / 1024
    small = jpeg_bytes(1600, 1200, seed=3)
    for _ in range(3):
        httpx.post(url + "/api/v1/detect", files={"file": ("s.jpg", small)}, timeout=60)
    idle = sampler.settled()
    out["idle"] = {"settled_mb": idle}
    print(f"idle {idle:.0f} MB", flush=True)

    def scenario(name: str, fn) -> None:
        sampler.reset()
        before_cpu = cpu() if cpu else None
        started = time.perf_counter()
        extra = fn()
        out[name] = {
            "peak_mb": sampler.peak,
            "settled_mb": sampler.settled(),
            "seconds": round(time.perf_counter() - started, 1),
            **(extra or {}),
        }
        if before_cpu is not None:
            out[name]["server_cpu_s"] = round(cpu() - before_cpu, 1)
        print(name, json.dumps(out[name]), flush=True)

    scenario(
        "one-batch",
        lambda: {"statuses": [asyncio.run(post_batch(url, files))[:2]], "upload_mb": upload_mb},
    )

    async def three():
        return await asyncio.gather(*(post_batch(url, files) for _ in range(3)))

    scenario("three-batches", lambda: {"statuses": [r[:2] for r in asyncio.run(three())]})

    def abandon() -> dict:
        threads, results = [], []
        for _ in range(3):
            t = threading.Thread(
                target=lambda: results.append(abandoned_batch(url, files, a.hang_up_s))
            )
            t.start()
            threads.append(t)
        for t in threads:
            t.join()
        # how long the server keeps computing after the hang-ups: its CPU time, 0.25 s steps
        busy_s = None
        if cpu:
            hung_up = time.perf_counter()
            last, busy_until = cpu(), hung_up
            while time.perf_counter() - hung_up < 120:
                time.sleep(0.25)
                now = cpu()
                if now - last < 0.03:  # under 12% of a core: idle
                    busy_s = round(busy_until - hung_up, 2)
                    break
                last, busy_until = now, time.perf_counter()
        return {"clients": results, "server_busy_after_hang_up_s": busy_s}

    scenario("abandoned", abandon)

    def slow() -> dict:
        url = (a.slow_url or base).rstrip("/")
        who = a.client_address
        baseline, base_status = asyncio.run(normal_clients(url, 8, a.slow_s / 3, small, who))

        async def attack():
            until = time.monotonic() + a.slow_s
            stats: Counter = Counter()
            kinds = ["header", "body"] * (a.slow // 2)
            # one attacker address, or (--spread-attackers) one address per connection
            tasks = [
                slow_client(url, k, until, stats, f"127.0.1.{i + 1}" if a.spread else None)
                for i, k in enumerate(kinds)
            ]
            loaded = normal_clients(url, 8, a.slow_s, small, who)
            *_, (lat, statuses) = await asyncio.gather(*tasks, loaded)
            return stats, lat, statuses

        stats, lat, statuses = asyncio.run(attack())
        p95_base, p95_load = pct(baseline, 95) * 1000, pct(lat, 95) * 1000
        return {
            "unloaded": {"n": len(baseline), "p95_ms": p95_base, "statuses": dict(base_status)},
            "under_attack": {"n": len(lat), "p95_ms": p95_load, "statuses": dict(statuses)},
            "p95_ratio": p95_load / p95_base if p95_base else None,
            "slow_connections": dict(stats),
        }

    scenario("slow-clients", slow)
    return out


def checks(out: dict, budget_mb: float) -> list[tuple[str, bool]]:
    """The issue's goals. Its "model size" is read as the idle server (the runtime and
    the loaded models): the ceiling is idle + budget + 300 MB."""
    idle = out["idle"]["settled_mb"]
    ceiling = idle + budget_mb + 300
    rows = []
    for name in ("one-batch", "three-batches", "abandoned", "slow-clients"):
        r = out[name]
        rows.append(
            (f"{name}: peak {r['peak_mb']:,.0f} MB <= {ceiling:,.0f} MB", r["peak_mb"] <= ceiling)
        )
        rows.append(
            (
                f"{name}: settled {r['settled_mb']:,.0f} MB within 20% of idle {idle:,.0f} MB",
                r["settled_mb"] <= idle * 1.2,
            )
        )
    statuses = Counter()
    for name in ("one-batch", "three-batches"):
        statuses.update(f"{s} {c}".strip() for s, c in out[name]["statuses"])
    sc = out["slow-clients"]
    statuses.update(sc["under_attack"]["statuses"])
    bad = {k: v for k, v in statuses.items() if k[:1] == "5" and k != "503 overloaded"}
    rows.append((f"no 5xx other than 503 overloaded ({dict(statuses)})", not bad))
    if "container" in out:
        before, after = out["container"]["before"], out["container"]["after"]
        alive = not after["oom_killed"] and after["started_at"] == before["started_at"]
        rows.append((f"container never OOM-killed or restarted ({after})", alive))
    ratio = sc["p95_ratio"]
    rows.append(
        (f"slow clients: p95 {ratio or 0:.2f}x unloaded (< 2x)", ratio is not None and ratio < 2)
    )
    return rows


def render(out: dict, a, budget_mb: float, rows, label: str) -> str:
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    idle = out["idle"]["settled_mb"]
    target = (
        f"the compose stack (batches to the backend at {a.url}, slow and normal clients "
        f"through {a.slow_url or a.url})"
        if a.url
        else "`aidetect serve` on loopback (what `scripts/run` starts)"
    )
    what = "the container's cgroup memory" if a.container else "the server process's RSS"
    lines = [
        "## Memory under big batches, abandoned requests and slow clients"
        + (f" ({label})" if label else ""),
        "",
        f"Measured {when} with `{a.command}`. Target: {target}; memory is {what}, sampled every "
        f"50 ms; settled = {SETTLE_S:g} s after the scenario. Memory budget "
        f"{budget_mb:,.0f} MB; models: the committed `models/` (default `patchnet-aligned`). "
        f"Machine: {machine()['nproc']} cores; load average {loadavg()} at the end.",
        "",
        md_table(
            ["scenario", "peak MB", "settled MB", "s", "outcome"],
            [
                ["idle", "", f"{idle:,.0f}", "", ""],
                *[
                    [
                        name,
                        f"{out[name]['peak_mb']:,.0f}",
                        f"{out[name]['settled_mb']:,.0f}",
                        out[name]["seconds"],
                        outcome(name, out[name]),
                    ]
                    for name in ("one-batch", "three-batches", "abandoned", "slow-clients")
                ],
            ],
        ),
        "",
        md_table(["check", "result"], [[t, "pass" if ok else "**FAIL**"] for t, ok in rows]),
    ]
    return "\n".join(lines) + "\n"


def outcome(name: str, r: dict) -> str:
    if name in ("one-batch", "three-batches"):
        return ", ".join(f"{s} {c}".strip() for s, c in r["statuses"])
    if name == "abandoned":
        busy = r.get("server_busy_after_hang_up_s")
        clients = ", ".join(r.get("clients", []))
        return f"clients: {clients}; server busy {busy} s after the hang-ups (0.25 s steps)"
    ua, un = r["under_attack"], r["unloaded"]
    return (
        f"8 clients: p95 {ua['p95_ms']:,.0f} ms (n={ua['n']}) vs {un['p95_ms']:,.0f} ms unloaded "
        f"(n={un['n']}); statuses {ua['statuses']}; slow connections {r['slow_connections']}"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--budget-mb", type=int, default=1536, help="AIDETECT_MEMORY_BUDGET_MB")
    p.add_argument("--files", type=int, default=32)
    p.add_argument("--slow", type=int, default=150, help="slow connections")
    p.add_argument("--slow-s", type=float, default=60.0)
    p.add_argument("--hang-up-s", type=float, default=3.0)
    p.add_argument("--quick", action="store_true", help="small images, short attack (a check)")
    p.add_argument("--url", help="a running server (the compose stack) instead of starting one")
    p.add_argument("--container", help="with --url: read memory from this container's cgroup")
    p.add_argument(
        "--slow-url", help="the slow-client scenario against this URL (nginx in front) instead"
    )
    p.add_argument("--client-address", help="source address of the normal clients (e.g. 127.0.0.2)")
    p.add_argument(
        "--spread-attackers",
        dest="spread",
        action="store_true",
        help="each slow connection from its own loopback address (127.0.1.N): per-address "
        "limits cannot single them out",
    )
    p.add_argument("--label", default="", help="suffix of the results file and doc section")
    p.add_argument("--no-docs", action="store_true")
    a = p.parse_args()
    if a.quick:
        a.slow_s, a.slow = min(a.slow_s, 15.0), min(a.slow, 40)
    a.command = " ".join(["python -m benchmarks.memory", *sys.argv[1:]])
    label = a.label
    if a.url:
        read = container_memory(a.container) if a.container else None
        if read is None:
            raise SystemExit("--url needs --container (where to read the memory from)")
        sampler = Sampler(read)
        before = oom_killed(a.container)
        out = run_all(a.url.rstrip("/"), sampler, container_cpu_s(a.container), a)
        after = oom_killed(a.container)
        out["container"] = {"before": before, "after": after}
    else:
        log = Path(tempfile.mkdtemp()) / "server.log"
        with aidetect_server(
            REPO / "models", log, memory_budget_mb=str(a.budget_mb), frontend_dist="/nonexistent"
        ) as (url, proc):
            sampler = Sampler(lambda: rss_mb(proc.pid))
            out = run_all(url, sampler, lambda: process_cpu_s(proc.pid), a)
    sampler.stop()
    rows = checks(out, a.budget_mb)
    result = {"budget_mb": a.budget_mb, "command": a.command, "results": out, "checks": rows}
    name = f"memory-{label}.json" if label else "memory.json"
    (REPO / "benchmarks" / "results").mkdir(parents=True, exist_ok=True)
    (REPO / "benchmarks" / "results" / name).write_text(json.dumps(result, indent=1) + "\n")
    for text, ok in rows:
        print(("PASS " if ok else "FAIL ") + text)
    if not a.no_docs:
        key = f"memory-{label}" if label else "memory"
        replace_section(DOC, f"reliability:{key}", render(out, a, a.budget_mb, rows, label))


if __name__ == "__main__":
    main()
