"""Batch scoring's shared parts: sources, one record per image, and the output writers.

``aidetect predict`` and ``evaluate`` use these with either engine (in this process, or
on a Ray cluster through ``aidetect.ray_engine``), so both engines list the same files,
score them through ``Detector.score_files`` / ``score_read`` and write the same rows.

A source is a local file or folder (folders are searched recursively for image files),
or a URI (``s3://bucket/prefix``, ``gs://...``, ``file:///...``, any pyarrow or fsspec
file system), read with the same size limit as a local file.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from aidetect.errors import (
    AIDetectError,
    FileNotFoundInputError,
    TooManyBytesError,
    UnreadableFileError,
)
from aidetect.imaging import IMAGE_SUFFIXES

EXTRA_HINT = "pip install 'aidetect[ray]'"

# --- sources ----------------------------------------------------------------------------------


def is_uri(source: str) -> bool:
    """``scheme://...`` (a file system URI), not a local path."""
    scheme, sep, _ = source.partition("://")
    return bool(sep) and scheme.replace("+", "").isalnum()


def filesystem(uri: str):
    """The pyarrow file system and path for a URI: pyarrow's own (local, S3, GCS, HDFS,
    ABFS), else any fsspec implementation that is installed, wrapped for pyarrow."""
    try:
        import pyarrow as pa
        import pyarrow.fs as pafs
    except ImportError as exc:
        raise AIDetectError(f"File system URIs need pyarrow: {EXTRA_HINT}") from exc
    try:
        return pafs.FileSystem.from_uri(uri)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
        import fsspec

        fs, path = fsspec.core.url_to_fs(uri)
        return pafs.PyFileSystem(pafs.FSSpecHandler(fs)), path


def iter_images(sources: Iterable[str | os.PathLike[str]]) -> Iterator[str]:
    """Image files under the sources, folders walked in sorted order; files named
    directly are kept whatever their suffix (a missing one fails later, as an error row)."""
    for raw in sources:
        source = os.fspath(raw)
        if is_uri(source):
            yield from _iter_uri(source)
            continue
        p = Path(source)
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs.sort()
                for f in sorted(files):
                    if Path(f).suffix.lower() in IMAGE_SUFFIXES:
                        yield str(Path(root) / f)
        else:
            yield str(p)


def _iter_uri(uri: str) -> Iterator[str]:
    import pyarrow.fs as pafs

    fs, path = filesystem(uri)
    info = fs.get_file_info(path)
    if info.type != pafs.FileType.Directory:
        yield uri
        return
    base = path.rstrip("/")  # listed paths start with it; the URI keeps its scheme and host
    found = fs.get_file_info(pafs.FileSelector(path, recursive=True))
    for f in sorted(found, key=lambda i: i.path):
        if f.type == pafs.FileType.File and Path(f.path).suffix.lower() in IMAGE_SUFFIXES:
            yield uri.rstrip("/") + "/" + f.path[len(base) :].lstrip("/")


def read_uri(uri: str, max_bytes: int) -> bytes | AIDetectError:
    """A URI's bytes within the size limit, or the typed error that says why not."""
    import pyarrow.fs as pafs

    try:
        fs, path = filesystem(uri)
        info = fs.get_file_info(path)
        if info.type == pafs.FileType.NotFound:
            return FileNotFoundInputError(f"{uri} does not exist.")
        if info.type != pafs.FileType.File:
            return UnreadableFileError(f"cannot read {uri}: not a file")
        if info.size is not None and info.size > max_bytes:
            return TooManyBytesError(
                f"{Path(path).name} has {info.size:,} bytes; the limit is {max_bytes:,} bytes."
            )
        with fs.open_input_stream(path) as f:
            data = f.read(max_bytes + 1)
        if len(data) > max_bytes:
            return TooManyBytesError(f"{Path(path).name} is over the limit of {max_bytes:,} bytes.")
        return data
    except AIDetectError as exc:
        return exc
    except (OSError, ValueError) as exc:  # unknown scheme, no access, I/O
        return UnreadableFileError(f"cannot read {uri}: {exc}")


def score_sources(detector, sources: Iterable[str], model: str | None, *, batch_size: int):
    """``(source, result or error)`` in order, read lazily: local files as
    ``Detector.score_files`` reads them, URIs with ``read_uri``, both scored by the same
    loop (``Detector.score_read``)."""
    limit = detector.limits.max_bytes

    def read(source: str) -> tuple[str, bytes | AIDetectError]:
        if is_uri(source):
            return source, read_uri(source, limit)
        path = Path(source)
        return str(path), detector.read(path)

    return detector.score_read(map(read, sources), model, batch_size=batch_size)


# --- the detector -----------------------------------------------------------------------------
def detector_for(settings, model: str | None, *, no_provenance: bool = False):
    """The detector and model name ``--model`` / ``--no-provenance`` ask for (the CLI's and
    each Ray actor's)."""
    from aidetect.inference import Detector
    from aidetect.registry import registry_for

    registry, name = registry_for(model, settings.models_dir)
    detector = Detector.from_settings(
        settings,
        registry=registry,
        default_model=name,
        provenance=settings.provenance and not no_provenance,
    )
    return detector, name


# --- records ----------------------------------------------------------------------------------
def record(path: str | os.PathLike[str], res) -> dict:
    """One image's JSON-ready record: the result (no heatmap), or its error code and detail."""
    if isinstance(res, AIDetectError):
        return {"path": str(path), "ok": False, "error": {"code": res.code, "detail": res.detail}}
    return {"path": str(path), "ok": True, **res.model_dump(mode="json", exclude={"heatmap"})}


def result_of(rec: dict):
    """A record back to the result or the error it was made from (``evaluate --engine ray``)."""
    from aidetect.results import DetectionResult

    if not rec["ok"]:
        err = AIDetectError(rec["error"]["detail"])
        err.code = rec["error"]["code"]
        return err
    return DetectionResult.model_validate({k: v for k, v in rec.items() if k not in ("path", "ok")})


TABLE_FIELDS = [
    "path",
    "ok",
    "verdict",
    "ai_probability",
    "model",
    "models",
    "width",
    "height",
    "format",
    "evidence",
    "error_code",
    "error",
]


def table_row(rec: dict) -> dict[str, Any]:
    """A record as one flat row (CSV and Parquet): per-model scores and evidence as lists."""
    if not rec["ok"]:
        return {
            "path": rec["path"],
            "ok": False,
            "error_code": rec["error"]["code"],
            "error": rec["error"]["detail"],
        }
    return {
        "path": rec["path"],
        "ok": True,
        "verdict": rec["verdict"],
        "ai_probability": rec["ai_probability"],
        "model": rec["model"]["name"],
        "models": [
            {"name": m["name"], "ai_probability": m["ai_probability"]} for m in rec["models"]
        ],
        "width": rec["image"]["width"],
        "height": rec["image"]["height"],
        "format": rec["image"]["format"],
        "evidence": [
            {"kind": e["kind"], "signal": e["signal"], "strength": e["strength"]}
            for e in rec["evidence"]
        ],
    }


def csv_row(rec: dict) -> dict[str, Any]:
    row = table_row(rec)
    if rec["ok"]:
        row["ai_probability"] = f"{row['ai_probability']:.6f}"
        row["models"] = "; ".join(f"{m['name']}={m['ai_probability']:.6f}" for m in row["models"])
        row["evidence"] = "; ".join(
            f"{e['kind']}:{e['signal']}/{e['strength']}" for e in row["evidence"]
        )
    return row


def parquet_schema():
    import pyarrow as pa

    return pa.schema(
        [
            ("path", pa.string()),
            ("ok", pa.bool_()),
            ("verdict", pa.string()),
            ("ai_probability", pa.float64()),
            ("model", pa.string()),
            (
                "models",
                pa.list_(pa.struct([("name", pa.string()), ("ai_probability", pa.float64())])),
            ),
            ("width", pa.int64()),
            ("height", pa.int64()),
            ("format", pa.string()),
            (
                "evidence",
                pa.list_(
                    pa.struct(
                        [("kind", pa.string()), ("signal", pa.string()), ("strength", pa.string())]
                    )
                ),
            ),
            ("error_code", pa.string()),
            ("error", pa.string()),
        ]
    )


# --- writers ----------------------------------------------------------------------------------
FORMATS = ("jsonl", "csv", "parquet")


def output_format(fmt: str | None, output: str | None) -> str:
    """``--format``, else the output file's suffix (.csv, .parquet), else JSON lines."""
    if fmt:
        return fmt
    suffix = Path(output).suffix.lower().lstrip(".") if output else ""
    return {"csv": "csv", "parquet": "parquet", "pq": "parquet"}.get(suffix, "jsonl")


class RecordWriter:
    """Writes records as JSON lines, CSV or Parquet (in row groups of ``group`` rows),
    counting successes and errors."""

    def __init__(self, fmt: str, out: IO[str] | str | os.PathLike[str], group: int = 1024):
        self.fmt, self.group = fmt, group
        self.n_ok = self.n_err = 0
        self._pending: list[dict] = []
        self._close: Callable[[], None] = lambda: None
        if fmt == "parquet":
            try:
                import pyarrow.parquet as pq
            except ImportError as exc:
                raise AIDetectError(f"Parquet output needs pyarrow: {EXTRA_HINT}") from exc

            if not isinstance(out, str | os.PathLike):
                raise AIDetectError("Parquet output needs --output FILE.")
            self._parquet = pq.ParquetWriter(os.fspath(out), parquet_schema())
            self._close = self._parquet.close
            return
        if isinstance(out, str | os.PathLike):
            out = open(out, "w", newline="")  # noqa: SIM115 - closed by close()
            self._close = out.close
        self.out = out
        self._csv = None
        if fmt == "csv":
            self._csv = csv.DictWriter(out, fieldnames=TABLE_FIELDS)
            self._csv.writeheader()

    def write(self, rec: dict) -> None:
        self.n_ok, self.n_err = self.n_ok + rec["ok"], self.n_err + (not rec["ok"])
        if self.fmt == "parquet":
            self._pending.append(table_row(rec))
            if len(self._pending) >= self.group:
                self._flush()
            return
        if self._csv is not None:
            self._csv.writerow(csv_row(rec))
        else:
            self.out.write(json.dumps(rec) + "\n")
        self.out.flush()

    def _flush(self) -> None:
        import pyarrow as pa

        if self._pending:
            self._parquet.write_table(pa.Table.from_pylist(self._pending, parquet_schema()))
            self._pending.clear()

    def close(self) -> None:
        if self.fmt == "parquet":
            self._flush()
        self._close()

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
