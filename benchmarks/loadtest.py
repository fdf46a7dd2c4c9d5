"""Bounded load test of a real ``aidetect serve`` on 127.0.0.1.

Phases (each against its own server process, started and stopped here):

``mixed``
    32 concurrent clients for 60 s, mixing single uploads (multipart and base64 JSON),
    batches (one bad file in each) and malformed requests. Pass: no 5xx, no dropped
    connection; p50/p95/p99 latency and throughput recorded.
``memory``
    10,000 small requests with a light model; the server's RSS (from /proc) after
    10,000 requests must be within 10% of its RSS after 1,000.
``overload``
    ``AIDETECT_MAX_CONCURRENCY=1`` and 64 simultaneous slow requests: those past the
    queue bound must get 503 ``overloaded`` at once, the rest 200.
``timeout``
    ``AIDETECT_REQUEST_TIMEOUT_S`` below one request's cost: 503 ``timeout`` in about
    that time, and the server still answers afterwards.
``ratelimit``
    ``AIDETECT_RATE_LIMIT_PER_MINUTE=30``: request 31 and later get 429 at once.

Bounded in time and count, loopback only. Writes ``benchmarks/results/loadtest.json``
and the ``reliability:load`` section of ``docs/reliability.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import io
import json
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

from benchmarks.common import (
    REPO,
    aidetect_server,
    jpeg_bytes,
    loadavg,
    machine,
    md_table,
    pct,
    prepare_models,
    replace_section,
    rss_mb,
)

RESULTS = REPO / "benchmarks" / "results" / "loadtest.json"
DOC = REPO / "docs" / "reliability.md"
DOC_TITLE = (
    "# Reliability and security\n\nMeasured behaviour under load, hostile input and "
    "attack, each with the command that reproduces it.\n"
)


def log(msg: str) -> None:
    print(f"[load {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def png_bytes(w: int, h: int, seed: int) -> bytes:
    from PIL import Image

    from benchmarks.common import photo

    buf = io.BytesIO()
    Image.fromarray(photo(w, h, seed)).save(buf, "PNG")
    return buf.getvalue()


class Mix:
    """Request recipes: (category, name, request kwargs, acceptable statuses)."""

    def __init__(self, models: dict, small: bool):
        side = 96 if small else 320
        self.jpegs = [jpeg_bytes(side, side * 3 // 4, seed=i) for i in range(8)]
        self.png = png_bytes(side, side, 99)
        self.big = jpeg_bytes(640, 480, seed=7)
        good = self.jpegs[0]
        self.models = models
        self.light = models["light"]
        self.resnet = models["resnet"]
        b64 = base64.b64encode(good).decode()
        self.malformed = [
            ("not an image", {"files": {"file": ("a.jpg", b"hello, not an image")}}, {415}),
            ("truncated jpeg", {"files": {"file": ("t.jpg", good[: len(good) // 2])}}, {400}),
            ("empty file", {"files": {"file": ("e.jpg", b"")}}, {400}),
            ("bad base64", {"json": {"image": "@@@not-base64@@@"}}, {400}),
            (
                "not json",
                {"content": b"{oops", "headers": {"content-type": "application/json"}},
                {422},
            ),
            ("no file field", {"files": {"other": ("x.jpg", good)}}, {422}),
            (
                "path as model",
                {"files": {"file": ("x.jpg", good)}, "params": {"model": "../etc"}},
                {422},
            ),
            (
                "unknown model",
                {"files": {"file": ("x.jpg", good)}, "params": {"model": "nope"}},
                {404},
            ),
            (
                "text/plain body",
                {"content": b"abc", "headers": {"content-type": "text/plain"}},
                {422},
            ),
            ("wrong json field", {"json": {"img": b64}}, {422}),
        ]

    def pick(self, rng: random.Random, light_only: bool) -> tuple[str, str, str, dict, set[int]]:
        x = rng.random()
        model = self.light if light_only or rng.random() < 0.9 else self.resnet
        img = rng.choice(self.jpegs)
        if x < 0.45:
            return (
                "single",
                "multipart",
                "/api/v1/detect",
                {
                    "files": {"file": ("p.jpg", img, "image/jpeg")},
                    "params": {"model": model},
                },
                {200},
            )
        if x < 0.55:
            return (
                "single",
                "base64 json",
                "/api/v1/detect",
                {
                    "json": {"image": base64.b64encode(img).decode()},
                    "params": {"model": model},
                },
                {200},
            )
        if x < 0.60 and not light_only:
            return (
                "single",
                "legacy POST /",
                "/",
                {"json": {"bytes_data": base64.b64encode(self.png).decode()}},
                {200},
            )
        if x < 0.75:
            n = rng.randint(2, 6)
            files = [
                ("files", (f"{i}.jpg", rng.choice(self.jpegs), "image/jpeg")) for i in range(n)
            ]
            files.insert(rng.randint(0, n), ("files", ("bad.jpg", b"\xff\xd8\xff broken")))
            return (
                "batch",
                f"batch of {n + 1}",
                "/api/v1/detect/batch",
                {
                    "files": files,
                    "params": {"model": model},
                },
                {200},
            )
        name, kw, ok = rng.choice(self.malformed)
        path = "/api/v1/detect"
        return "malformed", name, path, kw, ok


async def drive(
    url: str,
    mix: Mix,
    *,
    clients: int,
    duration_s: float | None = None,
    total: int | None = None,
    light_only: bool = False,
    on_count=None,
    seed: int = 0,
) -> dict:
    """``clients`` concurrent loops until ``duration_s`` passes or ``total`` requests are sent."""
    assert url.startswith("http://127.0.0.1:"), "loopback only"
    lat: dict[str, list[float]] = {"single": [], "batch": [], "malformed": []}
    statuses: Counter[str] = Counter()
    unexpected: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    sent = 0
    done = 0
    start = time.perf_counter()
    deadline = start + duration_s if duration_s else float("inf")
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:

        async def worker(k: int) -> None:
            nonlocal sent, done
            rng = random.Random(seed * 1000 + k)
            while time.perf_counter() < deadline and (total is None or sent < total):
                sent += 1
                cat, name, path, kw, ok = mix.pick(rng, light_only)
                t = time.perf_counter()
                try:
                    r = await client.post(path, **kw)
                except httpx.HTTPError as exc:
                    errors[f"{type(exc).__name__} on {name}"] += 1
                    continue
                lat[cat].append(time.perf_counter() - t)
                statuses[str(r.status_code)] += 1
                if r.status_code not in ok:
                    unexpected[f"{r.status_code} on {name}"] += 1
                done += 1
                if on_count is not None:
                    on_count(done)

        await asyncio.gather(*(worker(k) for k in range(clients)))
    wall = time.perf_counter() - start
    every = [x for v in lat.values() for x in v]

    def stats(xs: list[float]) -> dict:
        ms = [x * 1000 for x in xs]
        return {
            "n": len(ms),
            "p50_ms": round(pct(ms, 50), 1) if ms else None,
            "p95_ms": round(pct(ms, 95), 1) if ms else None,
            "p99_ms": round(pct(ms, 99), 1) if ms else None,
        }

    return {
        "clients": clients,
        "wall_s": round(wall, 1),
        "requests": done,
        "throughput_req_s": round(done / wall, 1),
        "all": stats(every),
        **{k: stats(v) for k, v in lat.items()},
        "statuses": dict(sorted(statuses.items())),
        "server_errors_5xx": sum(v for k, v in statuses.items() if k.startswith("5")),
        "dropped_connections": sum(errors.values()),
        "client_errors": dict(errors),
        "unexpected_statuses": dict(unexpected),
    }


# --- phases -----------------------------------------------------------------------------------
def phase_mixed(root: Path, models: dict, tmp: Path, args) -> dict:
    mix = Mix(models, small=False)
    with aidetect_server(root, tmp / "mixed.log") as (url, proc):
        asyncio.run(drive(url, mix, clients=4, total=40))  # warm-up: every model loaded, traced
        rss0 = rss_mb(proc.pid)
        out = asyncio.run(drive(url, mix, clients=args.clients, duration_s=args.duration, seed=1))
        out["rss_mb_before"], out["rss_mb_after"] = round(rss0, 1), round(rss_mb(proc.pid), 1)
        out["healthy_after"] = httpx.get(url + "/healthz", timeout=10).status_code == 200
    out["duration_s"] = args.duration
    return out


def phase_memory(root: Path, models: dict, tmp: Path, args) -> dict:
    mix = Mix(models, small=True)
    samples: dict[int, float] = {}
    marks = set(range(0, args.memory_requests + 1, max(1, args.memory_requests // 10)))
    with aidetect_server(root, tmp / "memory.log") as (url, proc):

        def on_count(n: int) -> None:
            if n in marks:
                samples[n] = round(rss_mb(proc.pid), 1)

        samples[0] = round(rss_mb(proc.pid), 1)
        out = asyncio.run(
            drive(
                url,
                mix,
                clients=8,
                total=args.memory_requests,
                light_only=True,
                on_count=on_count,
                seed=2,
            )
        )
        samples[out["requests"]] = round(rss_mb(proc.pid), 1)
    first = args.memory_requests // 10
    a, b = samples.get(first), samples[max(samples)]
    out["rss_mb_by_requests"] = dict(sorted(samples.items()))
    out["rss_growth_pct_after_first_tenth"] = round((b - a) / a * 100, 2) if a else None
    out["memory_ok"] = a is not None and abs(b - a) <= 0.10 * a
    return out


def phase_overload(root: Path, models: dict, tmp: Path, args) -> dict:
    slow = jpeg_bytes(1632, 1224, seed=3)  # 2 MP through the ResNet50: hundreds of ms each
    n = 64
    with aidetect_server(root, tmp / "overload.log", max_concurrency=1) as (url, _):
        httpx.post(
            url + "/api/v1/detect",
            params={"model": models["resnet"]},
            files={"file": slow},
            timeout=120,
        )

        async def fire() -> list[tuple[int, str, float]]:
            limits = httpx.Limits(max_connections=n)
            async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as c:

                async def one() -> tuple[int, str, float]:
                    t = time.perf_counter()
                    r = await c.post(
                        "/api/v1/detect",
                        params={"model": models["resnet"]},
                        files={"file": ("s.jpg", slow, "image/jpeg")},
                    )
                    code = r.json().get("code", "") if r.status_code != 200 else ""
                    return r.status_code, code, time.perf_counter() - t

                return await asyncio.gather(*(one() for _ in range(n)))

        res = asyncio.run(fire())

        async def probe() -> list[tuple[int, float]]:
            # hold the server full (1 running, 4 waiting), then time small probes one by one
            limits = httpx.Limits(max_connections=16)
            async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as c:
                stop = asyncio.Event()

                async def keep_busy() -> None:
                    while not stop.is_set():
                        await c.post(
                            "/api/v1/detect",
                            params={"model": models["resnet"]},
                            files={"file": ("s.jpg", slow, "image/jpeg")},
                        )

                busy = [asyncio.create_task(keep_busy()) for _ in range(12)]
                await asyncio.sleep(3.0)
                out = []
                for _ in range(20):
                    await asyncio.sleep(0.2)
                    t = time.perf_counter()
                    r = await c.post(
                        "/api/v1/detect",
                        params={"model": models["resnet"]},
                        files={"file": ("p.jpg", slow, "image/jpeg")},
                    )
                    out.append((r.status_code, time.perf_counter() - t))
                stop.set()
                await asyncio.gather(*busy)
                return out

        probes = asyncio.run(probe())
    probe_ms = [t * 1000 for s, t in probes if s == 503]
    refused = [t * 1000 for s, _, t in res if s == 503]
    served = [t * 1000 for s, _, t in res if s == 200]
    return {
        "max_concurrency": 1,
        "queue_bound": 4,
        "simultaneous_requests": n,
        "statuses": dict(Counter(f"{s} {c}".strip() for s, c, _ in res)),
        "refused_503": len(refused),
        "refused_p50_ms": round(pct(refused, 50), 1) if refused else None,
        "refused_p95_ms": round(pct(refused, 95), 1) if refused else None,
        "served_p50_ms": round(pct(served, 50), 1) if served else None,
        "served_max_ms": round(max(served), 1) if served else None,
        "other": sum(1 for s, _, _ in res if s not in (200, 503)),
        "probes": dict(Counter(str(s) for s, _ in probes)),
        "probe_503_p50_ms": round(pct(probe_ms, 50), 1) if probe_ms else None,
        "probe_503_max_ms": round(max(probe_ms), 1) if probe_ms else None,
    }


def phase_timeout(root: Path, models: dict, tmp: Path, args) -> dict:
    big = jpeg_bytes(4000, 3000, seed=4)
    timeout_s = 0.3
    out: dict = {"request_timeout_s": timeout_s}
    with aidetect_server(root, tmp / "timeout.log", request_timeout_s=timeout_s) as (url, proc):
        rows = []
        for _ in range(5):
            t = time.perf_counter()
            r = httpx.post(
                url + "/api/v1/detect",
                params={"model": "bench-ensemble"},
                files={"file": ("b.jpg", big, "image/jpeg")},
                timeout=120,
            )
            rows.append((r.status_code, r.json().get("code"), (time.perf_counter() - t) * 1000))
        time.sleep(3)  # let abandoned work finish
        out["statuses"] = dict(Counter(f"{s} {c}" for s, c, _ in rows))
        out["answer_ms_median"] = round(statistics.median(t for *_, t in rows), 1)
        out["healthy_after"] = httpx.get(url + "/healthz", timeout=10).status_code == 200
        out["threads_after"] = int(
            Path(f"/proc/{proc.pid}/status").read_text().split("Threads:")[1].split()[0]
        )
    return out


def phase_ratelimit(root: Path, models: dict, tmp: Path, args) -> dict:
    img = jpeg_bytes(96, 72, seed=5)
    with aidetect_server(root, tmp / "rate.log", rate_limit_per_minute=30) as (url, _):
        rows = []
        with httpx.Client(base_url=url, timeout=60) as c:
            for _ in range(40):
                t = time.perf_counter()
                r = c.post("/api/v1/detect", params={"model": models["light"]}, files={"file": img})
                rows.append((r.status_code, r.headers.get("retry-after"), time.perf_counter() - t))
            health = c.get("/healthz").status_code
    limited = [t * 1000 for s, _, t in rows if s == 429]
    return {
        "rate_limit_per_minute": 30,
        "requests": len(rows),
        "statuses": dict(Counter(str(s) for s, _, _ in rows)),
        "first_429_at": next((i + 1 for i, (s, _, _) in enumerate(rows) if s == 429), None),
        "retry_after": next((ra for s, ra, _ in rows if s == 429), None),
        "limited_p50_ms": round(pct(limited, 50), 1) if limited else None,
        "get_not_limited": health == 200,
    }


PHASES = {
    "mixed": phase_mixed,
    "memory": phase_memory,
    "overload": phase_overload,
    "timeout": phase_timeout,
    "ratelimit": phase_ratelimit,
}


def verdicts(r: dict) -> dict[str, bool]:
    v = {}
    if "mixed" in r:
        m = r["mixed"]
        v["mixed: no 5xx"] = m["server_errors_5xx"] == 0
        v["mixed: no dropped connection"] = m["dropped_connections"] == 0
        v["mixed: every status as expected"] = not m["unexpected_statuses"]
    if "memory" in r:
        v["memory: RSS after 10x within 10% of after 1x"] = bool(r["memory"]["memory_ok"])
        v["memory: no 5xx, no drop"] = (
            r["memory"]["server_errors_5xx"] == 0 and r["memory"]["dropped_connections"] == 0
        )
    if "overload" in r:
        o = r["overload"]
        v["overload: refused with 503, none other than 200/503"] = (
            o["refused_503"] > 0 and o["other"] == 0
        )
        v["overload: 503 within 1 s while full"] = (
            o.get("probes", {}).get("503", 0) >= 5 and (o["probe_503_max_ms"] or 1e9) < 1000
        )
    if "timeout" in r:
        v["timeout: 503 timeout, server alive"] = (
            all(k.startswith("503 timeout") for k in r["timeout"]["statuses"])
            and r["timeout"]["healthy_after"]
        )
    if "ratelimit" in r:
        v["rate limit: 429 after 30/min"] = r["ratelimit"]["first_429_at"] == 31
    return v


def render(r: dict, cmd: str) -> str:
    mach = r["machine"]
    lines = [
        "## Load test (loopback)",
        "",
        f"Measured {r['date']} with `{cmd}`. Machine: {mach['nproc']} CPU cores ({mach['cpu']}), "
        f"load average {mach['loadavg_start']} at start and {r['loadavg_end']} at end (shared "
        "with other jobs: latencies are noisy). Server: `aidetect serve`, one worker, defaults "
        "(`AIDETECT_MAX_CONCURRENCY=8`, `AIDETECT_REQUEST_TIMEOUT_S=60`) unless stated; models: "
        f"`{r['models']['resnet']}` (ResNet50, built by the benchmark, untrained) and "
        + ", ".join(f"`{n}`" for n in r["models"]["rows"] if n != r["models"]["resnet"])
        + ".",
        "",
        "Each phase's end and the load average then: "
        + "; ".join(
            f"{p} {r[p].get('measured_at', r['date'])[11:]} {r[p].get('loadavg_after', '')}"
            for p in PHASES
            if p in r
        )
        + ".",
        "",
        "| check | result |",
        "|---|---|",
    ]
    lines += [f"| {k} | {'pass' if ok else '**FAIL**'} |" for k, ok in r["verdicts"].items()]
    lines.append("")
    if "mixed" in r:
        m = r["mixed"]
        lines += [
            f"### Mixed traffic: {m['clients']} clients for {m['duration_s']} s",
            "",
            "45% multipart single uploads, 10% base64 JSON, 5% the seed's `POST /`, 15% batches "
            "of 3 to 7 files with one broken file each, 25% malformed requests (not an image, "
            "truncated JPEG, empty file, bad base64, broken JSON, missing field, a path or an "
            f"unknown name as `model=`, wrong content type); 90% of image requests use "
            f"`{r['models']['light']}`, 10% the ResNet50. Images 320x240 JPEG.",
            "",
            md_table(
                ["requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "5xx", "dropped"],
                [
                    [
                        m["requests"],
                        m["throughput_req_s"],
                        m["all"]["p50_ms"],
                        m["all"]["p95_ms"],
                        m["all"]["p99_ms"],
                        m["server_errors_5xx"],
                        m["dropped_connections"],
                    ]
                ],
            ),
            "",
            md_table(
                ["kind", "n", "p50 ms", "p95 ms", "p99 ms"],
                [
                    [k, m[k]["n"], m[k]["p50_ms"], m[k]["p95_ms"], m[k]["p99_ms"]]
                    for k in ("single", "batch", "malformed")
                ],
            ),
            "",
            f"Statuses: {m['statuses']}. Server RSS {m['rss_mb_before']} MB before, "
            f"{m['rss_mb_after']} MB after.",
            "",
        ]
    if "memory" in r:
        mm = r["memory"]
        lines += [
            f"### Memory over {mm['requests']:,} requests",
            "",
            f"8 clients, 96x72 JPEGs, `{r['models']['light']}` only, the same mix of singles, "
            f"batches and malformed requests; {mm['throughput_req_s']} req/s. Server RSS (MB) "
            "by requests answered:",
            "",
            md_table(
                [str(k) for k in mm["rss_mb_by_requests"]],
                [list(mm["rss_mb_by_requests"].values())],
            ),
            "",
            f"Growth from request {mm['requests'] // 10:,} to the end: "
            f"{mm['rss_growth_pct_after_first_tenth']}% (limit 10%). Statuses: {mm['statuses']}.",
            "",
        ]
    if "overload" in r:
        o = r["overload"]
        lines += [
            "### Overload",
            "",
            f"`AIDETECT_MAX_CONCURRENCY=1` (so at most 1 running and 4 waiting), "
            f"{o['simultaneous_requests']} simultaneous 2 MP uploads to the ResNet50: "
            f"{o['statuses']}. The 503s came back in {o['refused_p50_ms']} ms (median; p95 "
            f"{o['refused_p95_ms']} ms, upload included); served requests took "
            f"{o['served_p50_ms']} ms median, {o['served_max_ms']} ms at most. The burst's 503s "
            "include the time to upload 64 bodies at once over one loopback on 2 busy cores. "
            "Measured cleanly: with 12 clients keeping the server full, 20 probe "
            f"requests one after another got {o.get('probes')}, the 503 in "
            f"{o.get('probe_503_p50_ms')} ms (median; at most {o.get('probe_503_max_ms')} ms): "
            "the capacity check runs before the body is read.",
            "",
        ]
    if "timeout" in r:
        t = r["timeout"]
        lines += [
            "### Per-request timeout",
            "",
            f"`AIDETECT_REQUEST_TIMEOUT_S={t['request_timeout_s']}`, 12 MP JPEG through the "
            f"ensemble, 5 requests: {t['statuses']}, answered in {t['answer_ms_median']} ms "
            f"(median); /healthz afterwards: {'200' if t['healthy_after'] else 'failed'}; "
            f"server threads afterwards: {t['threads_after']}.",
            "",
        ]
    if "ratelimit" in r:
        rl = r["ratelimit"]
        lines += [
            "### Rate limit",
            "",
            f"`AIDETECT_RATE_LIMIT_PER_MINUTE=30`, 40 requests from one client: {rl['statuses']}; "
            f"the first 429 at request {rl['first_429_at']}, `Retry-After: {rl['retry_after']}`, "
            f"answered in {rl['limited_p50_ms']} ms (median); GET /healthz is not limited.",
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="bounded loopback load test")
    ap.add_argument("--models-dir", type=Path)
    ap.add_argument(
        "--quick", action="store_true", help="10 s mixed phase, 3,000-request memory phase"
    )
    ap.add_argument("--phases", default=",".join(PHASES), help=f"comma list of {', '.join(PHASES)}")
    ap.add_argument("--no-docs", action="store_true")
    args = ap.parse_args(argv)
    args.clients = 16 if args.quick else 32
    args.duration = 10 if args.quick else 60
    args.memory_requests = 3000 if args.quick else 10_000

    from aidetect.settings import get_settings

    mach = machine()
    root, models = prepare_models(args.models_dir or get_settings().models_dir)
    out = RESULTS if not args.quick else RESULTS.with_name("loadtest-quick.json")
    # a run of some phases updates those phases in the last full record
    result: dict = json.loads(out.read_text()) if out.is_file() else {}
    result.update(
        date=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        machine=mach,
        models=models,
        mode="quick" if args.quick else "full",
    )
    with tempfile.TemporaryDirectory(prefix="loadtest-") as tmp:
        for name in args.phases.split(","):
            log(f"phase {name}")
            result[name] = PHASES[name](root, models, Path(tmp), args)
            result[name]["measured_at"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
            result[name]["loadavg_after"] = loadavg()
            log(f"{name}: {json.dumps(result[name])[:600]}")
    result["loadavg_end"] = loadavg()
    result["verdicts"] = verdicts(result)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    for k, ok in result["verdicts"].items():
        print(f"{'PASS' if ok else 'FAIL'}  {k}")
    if not args.no_docs and all(p in result for p in PHASES):
        cmd = "scripts/loadtest" + (" --quick" if args.quick else "")
        replace_section(DOC, "reliability:load", render(result, cmd), DOC_TITLE)
    return 0 if all(result["verdicts"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
