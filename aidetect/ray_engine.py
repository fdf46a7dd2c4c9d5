"""``--engine ray``: score many files on a Ray cluster with Ray Data (optional extra ``ray``).

The driver lists the sources (``aidetect.batch.iter_images``) and makes a dataset of
their paths; ``map_batches`` sends batches of paths to a fixed pool of actors, each of
which builds one ``Detector`` (the model loads once per actor) and scores its batches
through ``aidetect.batch.score_sources``, the loop ``aidetect predict`` uses without Ray.
Each image comes back as the same JSON record the plain CLI writes, in input order, so
the driver writes the output with the same writer, and ``evaluate`` computes its metrics
with the same code.

Every node must be able to read the sources (a shared folder or a URI such as
``s3://bucket/prefix``) and the model folder (the same path on every node), and have
this package installed. Ray is imported only here, only when the engine is used; usage
statistics are off and no dashboard is started.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from aidetect.batch import EXTRA_HINT
from aidetect.errors import AIDetectError
from aidetect.settings import Settings

INSTALL_HINT = f"The Ray engine needs the optional extra: {EXTRA_HINT}"


@dataclass
class RayOptions:
    """Where and how wide: ``address`` None starts a private local Ray in this process
    (bound to 127.0.0.1); ``workers`` None is one actor per CPU the cluster has."""

    address: str | None = None
    workers: int | None = None
    cpus_per_worker: float = 1.0
    batch_size: int = 32
    progress: bool = True


class Scorer:
    """One Ray Data actor: a detector built once, then batches of paths to records."""

    def __init__(self, settings: dict, model: str | None, no_provenance: bool, batch_size: int):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        from aidetect.batch import detector_for

        self.detector, self.model = detector_for(
            Settings(**settings), model, no_provenance=no_provenance
        )
        self.batch_size = batch_size
        self.detector.resolve(self.model)  # load now: a broken model fails at start-up

    def __call__(self, batch: dict) -> dict:
        from aidetect.batch import record, score_sources

        scored = score_sources(
            self.detector, [str(p) for p in batch["path"]], self.model, batch_size=self.batch_size
        )
        return {"record": [json.dumps(record(path, res)) for path, res in scored]}


def _init(address: str | None) -> None:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # never phone home
    # A private Ray gets a token of its own (nothing written to ~/.ray); Ray reads these
    # once, at import.
    if address is None and "ray" not in sys.modules and "RAY_AUTH_MODE" not in os.environ:
        os.environ["RAY_AUTH_MODE"] = "token"
        os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_hex(32))
    try:
        import ray
    except ImportError as exc:
        raise AIDetectError(INSTALL_HINT) from exc
    kwargs: dict = {
        "logging_level": logging.WARNING,
        "runtime_env": {"env_vars": {"TF_CPP_MIN_LOG_LEVEL": "2"}},
    }
    if address is None:
        # A private single-node Ray in this process: loopback only, no dashboard.
        kwargs |= {
            "include_dashboard": False,
            "_node_ip_address": "127.0.0.1",
            "object_store_memory": 256 * 2**20,
        }
    ray.init(address=address, **kwargs)
    logging.getLogger("ray.data").setLevel(logging.WARNING)


def score_records(
    sources: Sequence[str],
    settings: Settings,
    model: str | None,
    *,
    no_provenance: bool = False,
    options: RayOptions | None = None,
) -> Iterator[dict]:
    """Records (``aidetect.batch.record``) for ``sources``, scored on Ray, in input order."""
    options = options or RayOptions()
    if not sources:
        return
    if model and Path(model).exists():  # a model folder: the same absolute path on the nodes
        model = str(Path(model).resolve())
    config = settings.model_dump(mode="json")
    for key in ("models_dir", "c2pa_trust_anchors"):  # files the actors read: absolute paths
        if config.get(key):
            config[key] = str(Path(config[key]).resolve())
    owned = "ray" not in sys.modules or not sys.modules["ray"].is_initialized()
    if owned:  # else the caller's Ray (a notebook's ray.init()): used, left running
        _init(options.address)
    import ray
    import ray.data

    try:
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True  # rows in input order, as without Ray
        ctx.enable_progress_bars = False  # ours below counts images
        workers = options.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        # blocks of about one batch (at least one per actor, at most 1,000 on the driver)
        blocks = min(len(sources), max(workers, min(-(-len(sources) // options.batch_size), 1000)))
        blocks = max(1, blocks)
        ds = ray.data.from_items([{"path": s} for s in sources], override_num_blocks=blocks)
        ds = ds.map_batches(
            Scorer,
            fn_constructor_kwargs={
                "settings": config,
                "model": model,
                "no_provenance": no_provenance,
                "batch_size": options.batch_size,
            },
            batch_size=options.batch_size,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=workers),
            num_cpus=options.cpus_per_worker,
        )
        from tqdm import tqdm

        with tqdm(total=len(sources), unit="img", disable=not options.progress, desc="ray") as bar:
            for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
                for text in batch["record"]:
                    yield json.loads(text)
                bar.update(len(batch["record"]))
    finally:
        if owned:
            ray.shutdown()
