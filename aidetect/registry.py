"""Model artifacts: the ``models/<name>/`` format, integrity checks and loading.

An artifact folder holds the model file (``model.keras``; legacy HDF5 as
``model.h5``; scikit-learn as ``model.joblib``), ``metadata.json`` (described by
``ModelMetadata``) and a ``README.md`` model card. Ensembles are artifacts too:
their metadata names member artifacts in the same models folder.

Safety: names are plain identifiers, never paths; every file loaded must resolve
inside the registry's folder; the model file's SHA-256 must equal the one in its
metadata before anything is deserialised (so a swapped pickle is never loaded);
Keras files load in safe mode (no arbitrary lambdas).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
import re
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field, ValidationError, model_validator

from aidetect.errors import (
    ArtifactError,
    IntegrityError,
    InvalidModelNameError,
    UnknownModelError,
)
from aidetect.preprocess import InputSpec

METADATA_FILE = "metadata.json"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
MODEL_FILES = {"keras": "model.keras", "keras_h5": "model.h5", "sklearn": "model.joblib"}


class Member(BaseModel):
    name: str
    weight: float = Field(1.0, ge=0.0)


class ModelMetadata(BaseModel):
    """``metadata.json``. Unknown keys are kept (forward compatible)."""

    model_config = {"extra": "allow", "protected_namespaces": ()}

    schema_version: int = 1
    name: str
    architecture: str
    version: str = "1.0.0"
    description: str = ""
    created: str = ""
    format: Literal["keras", "keras_h5", "sklearn", "ensemble"]
    model_file: str | None = None
    sha256: str | None = None
    framework: dict[str, str] = Field(default_factory=dict)
    input: InputSpec | None = None
    output: Literal["ai_probability", "real_probability"] = Field(
        "ai_probability",
        description="What the model's single output means; real_probability for seed models",
    )
    label_convention: str = "1 = AI-generated, 0 = real"
    threshold: float = Field(0.5, ge=0.0, le=1.0)
    uncertain_band: tuple[float, float] | None = None
    default: bool = Field(False, description="Served when a request names no model")
    legacy: bool = Field(False, description="Answers the seed's POST /")
    members: list[Member] | None = None
    ensemble_rule: Literal["mean", "vote"] = "mean"
    training_data: dict[str, Any] | None = None
    metrics: dict[str, Any] = Field(default_factory=dict)
    command: str | None = None

    @model_validator(mode="after")
    def _check(self) -> ModelMetadata:
        if self.format == "ensemble":
            if not self.members:
                raise ValueError("an ensemble needs members")
        else:
            if self.input is None or not self.model_file or not self.sha256:
                raise ValueError("a model needs input, model_file and sha256")
            if Path(self.model_file).name != self.model_file:
                raise ValueError("model_file must be a plain file name")
        if self.uncertain_band is not None:
            lo, hi = self.uncertain_band
            if not 0.0 <= lo <= hi <= 1.0:
                raise ValueError("uncertain_band must satisfy 0 <= lo <= hi <= 1")
        return self

    def headline_metrics(self) -> dict[str, Any]:
        keys = ("accuracy", "roc_auc", "average_precision", "f1", "precision", "recall")
        test = self.metrics.get("test", self.metrics)
        return {k: test[k] for k in keys if isinstance(test, dict) and k in test}


def validate_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name) or ".." in name:
        raise InvalidModelNameError(
            f"A model name is letters, digits, '.', '_' and '-' (no paths): {name!r} is not one."
        )
    return name


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def framework_versions() -> dict[str, str]:
    import keras
    import sklearn

    out = {
        "python": platform.python_version(),
        "keras": keras.__version__,
        "keras_backend": keras.backend.backend(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
    }
    try:
        import tensorflow as tf

        if keras.backend.backend() == "tensorflow":
            out["tensorflow"] = tf.__version__
    except ImportError:
        pass
    return out


def now_iso() -> str:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()


# --- loaded models ----------------------------------------------------------------------------
class LoadedModel:
    """A single model ready to score preprocessed batches."""

    #: rows per model call: bounds memory when a batch holds many crops
    chunk_size = 64
    #: input pixels per Keras call: big batches of big inputs overflow the CPU caches, so
    #: per-image cost grows with the batch (ResNet50 at 200x200 on 2 cores: 125 ms an image
    #: alone, 271 ms an image in batches of 32; docs/benchmarks.md). Tiny inputs keep 64.
    pixel_budget = 4 * 200 * 200

    def __init__(self, metadata: ModelMetadata, path: Path, estimator: Any):
        self.metadata = metadata
        self.path = path
        self.estimator = estimator
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def spec(self) -> InputSpec:
        assert self.metadata.input is not None
        return self.metadata.input

    def predict_ai_proba(self, batch: np.ndarray) -> np.ndarray:
        """P(AI-generated) for each row of a preprocessed batch, shape (n,)."""
        if len(batch) == 0:
            return np.zeros((0,), dtype=np.float64)
        parts = []
        rows = self.chunk_size
        if self.metadata.format != "sklearn":
            rows = max(1, min(rows, self.pixel_budget // (batch.shape[1] * batch.shape[2])))
        with self._lock:
            for start in range(0, len(batch), rows):
                parts.append(self._raw(batch[start : start + rows]))
        p = np.concatenate(parts).astype(np.float64)
        if self.metadata.output == "real_probability":
            p = 1.0 - p
        return np.clip(p, 0.0, 1.0)

    def _raw(self, chunk: np.ndarray) -> np.ndarray:
        if self.metadata.format == "sklearn":
            proba = self.estimator.predict_proba(chunk)
            classes = list(getattr(self.estimator, "classes_", [0, 1]))
            return proba[:, classes.index(1)]
        out = self.estimator.predict_on_batch(chunk)
        out = np.asarray(out, dtype=np.float64)
        if out.ndim == 2 and out.shape[1] == 2:  # softmax over (real, ai)
            return out[:, 1]
        return out.reshape(len(chunk))


class LoadedEnsemble:
    def __init__(
        self, metadata: ModelMetadata, path: Path, members: list[tuple[LoadedModel, float]]
    ):
        self.metadata = metadata
        self.path = path
        self.members = members

    @property
    def name(self) -> str:
        return self.metadata.name


Loaded = LoadedModel | LoadedEnsemble


def _load_estimator(meta: ModelMetadata, file: Path) -> Any:
    if meta.format in ("keras", "keras_h5"):
        import keras

        import aidetect.layers  # noqa: F401  (registers the project's custom layers)

        try:
            return keras.models.load_model(file, compile=False, safe_mode=True)
        except Exception as exc:  # Keras raises many types for a bad file
            raise ArtifactError(f"cannot load Keras model {file.name}: {exc}") from exc
    if meta.format == "sklearn":
        import joblib

        try:
            return joblib.load(file)
        except Exception as exc:
            raise ArtifactError(f"cannot load scikit-learn model {file.name}: {exc}") from exc
    raise ArtifactError(f"unsupported model format {meta.format!r}")


class Registry:
    """The models in one folder: ``<root>/<name>/metadata.json``."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root).resolve()
        self._cache: dict[str, Loaded] = {}
        self._lock = threading.RLock()

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            p.name
            for p in self.root.iterdir()
            if p.is_dir() and NAME_RE.match(p.name) and (p / METADATA_FILE).is_file()
        )

    def _folder(self, name: str) -> Path:
        validate_name(name)
        folder = (self.root / name).resolve()
        if folder.parent != self.root:
            raise InvalidModelNameError(f"model {name!r} resolves outside the models folder")
        if not (folder / METADATA_FILE).is_file():
            raise UnknownModelError(
                f"No model named {name!r}. Installed: {', '.join(self.names()) or 'none'}."
            )
        return folder

    def metadata(self, name: str) -> ModelMetadata:
        folder = self._folder(name)
        try:
            meta = ModelMetadata.model_validate_json((folder / METADATA_FILE).read_bytes())
        except (ValidationError, ValueError) as exc:
            raise ArtifactError(f"{name}/metadata.json is invalid: {exc}") from exc
        if meta.name != name:
            raise ArtifactError(f"{name}/metadata.json names itself {meta.name!r}")
        return meta

    def default_name(self) -> str | None:
        """The model marked ``default`` (else the only model, else the first ensemble)."""
        metas = {n: self.metadata(n) for n in self.names()}
        for n, m in metas.items():
            if m.default:
                return n
        if len(metas) == 1:
            return next(iter(metas))
        return next(iter(sorted(metas)), None)

    def legacy_name(self) -> str | None:
        """The model behind the seed's ``POST /``: marked ``legacy``, else a resnet50."""
        metas = {n: self.metadata(n) for n in self.names()}
        for n, m in metas.items():
            if m.legacy:
                return n
        for n, m in metas.items():
            if m.architecture == "resnet50":
                return n
        return self.default_name()

    def model_path(self, name: str, meta: ModelMetadata) -> Path:
        folder = self._folder(name)
        assert meta.model_file is not None
        file = (folder / meta.model_file).resolve()
        if file.parent != folder or not file.is_relative_to(self.root):
            raise ArtifactError(f"{name}: model file resolves outside its folder")
        if not file.is_file():
            raise ArtifactError(f"{name}: model file {meta.model_file} is missing")
        return file

    def verify(self, name: str) -> ModelMetadata:
        """Check metadata and the model file's hash without loading it."""
        meta = self.metadata(name)
        if meta.format == "ensemble":
            for m in meta.members or []:
                if m.name == name:
                    raise ArtifactError(f"ensemble {name} lists itself as a member")
                self.verify(m.name)
            return meta
        file = self.model_path(name, meta)
        digest = sha256_file(file)
        if digest != meta.sha256:
            raise IntegrityError(
                f"{name}: {meta.model_file} has SHA-256 {digest[:12]}..., metadata says "
                f"{(meta.sha256 or '')[:12]}...; refusing to load it."
            )
        return meta

    def load(self, name: str) -> Loaded:
        with self._lock:
            if name in self._cache:
                return self._cache[name]
            meta = self.verify(name)
            loaded: Loaded
            if meta.format == "ensemble":
                members = []
                for m in meta.members or []:
                    member = self.load(m.name)
                    if not isinstance(member, LoadedModel):
                        raise ArtifactError(f"{name}: nested ensembles are not supported")
                    members.append((member, m.weight))
                loaded = LoadedEnsemble(meta, self._folder(name), members)
            else:
                file = self.model_path(name, meta)
                loaded = LoadedModel(meta, self._folder(name), _load_estimator(meta, file))
            self._cache[name] = loaded
            return loaded

    def load_all(self) -> dict[str, Loaded]:
        return {n: self.load(n) for n in self.names()}


def registry_for(
    model: str | None, models_dir: str | os.PathLike[str]
) -> tuple[Registry, str | None]:
    """Resolve a CLI ``--model`` (a registry name or an artifact folder path).

    A path is the user's own choice on their own machine; its parent becomes the
    registry root, so members of an ensemble are looked up beside it.
    """
    if model and (os.sep in model or model.startswith(".") or Path(model).is_dir()):
        folder = Path(model).resolve()
        if not (folder / METADATA_FILE).is_file():
            raise UnknownModelError(f"{model} is not a model folder (no {METADATA_FILE})")
        return Registry(folder.parent), folder.name
    return Registry(models_dir), model


# --- writing artifacts ------------------------------------------------------------------------
def write_artifact(
    out_dir: str | os.PathLike[str],
    metadata: dict[str, Any],
    *,
    keras_model: Any = None,
    sklearn_model: Any = None,
    model_file: str | os.PathLike[str] | None = None,
    card: str | None = None,
) -> ModelMetadata:
    """Write ``out_dir/{model file, metadata.json, README.md}`` and return the metadata.

    Exactly one of ``keras_model`` (saved as ``.keras``), ``sklearn_model`` (joblib)
    or ``model_file`` (copied; HDF5 is detected by its magic bytes) is given, except
    for ensembles, which have none. ``sha256``, ``model_file``, ``created`` and
    ``framework`` are filled in.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta = dict(metadata)
    validate_name(meta["name"])
    if meta.get("format") != "ensemble":
        if keras_model is not None:
            meta["format"] = "keras"
            target = out / MODEL_FILES["keras"]
            keras_model.save(target)
        elif sklearn_model is not None:
            import joblib

            meta["format"] = "sklearn"
            target = out / MODEL_FILES["sklearn"]
            joblib.dump(sklearn_model, target)
        elif model_file is not None:
            src = Path(model_file)
            with open(src, "rb") as f:
                is_h5 = f.read(8) == HDF5_MAGIC
            meta["format"] = "keras_h5" if is_h5 else meta.get("format", "keras")
            target = out / MODEL_FILES[meta["format"]]
            if src.resolve() != target.resolve():
                shutil.copyfile(src, target)
        else:
            raise ValueError("write_artifact needs a model to write")
        meta["model_file"] = target.name
        meta["sha256"] = sha256_file(target)
    meta.setdefault("created", now_iso())
    meta.setdefault("framework", framework_versions())
    validated = ModelMetadata.model_validate(meta)
    (out / METADATA_FILE).write_text(
        json.dumps(validated.model_dump(mode="json", exclude_none=True), indent=2) + "\n"
    )
    readme = out / "README.md"
    if card is not None or not readme.exists():
        readme.write_text(card if card is not None else model_card(validated))
    return validated


def update_metadata(model_dir: str | os.PathLike[str], fields: dict[str, Any]) -> ModelMetadata:
    """Add or replace top-level fields of an artifact's ``metadata.json`` (for results
    measured after training, such as held-out evaluations). The model file is untouched,
    so its recorded SHA-256 stays valid; the result is validated like any metadata."""
    path = Path(model_dir) / METADATA_FILE
    meta = json.loads(path.read_text())
    meta.update(fields)
    validated = ModelMetadata.model_validate(meta)
    path.write_text(
        json.dumps(validated.model_dump(mode="json", exclude_none=True), indent=2) + "\n"
    )
    return validated


def model_card(meta: ModelMetadata) -> str:
    """A model card generated from metadata (training writes a fuller one)."""
    lines = [
        f"# {meta.name} ({meta.architecture}, v{meta.version})",
        "",
        meta.description or "No description given.",
        "",
        "## Input",
        "",
    ]
    if meta.input is not None:
        lines.append(
            f"- policy `{meta.input.policy}`, size {meta.input.size}, scale `{meta.input.scale}`"
        )
    if meta.members:
        lines.append(
            "- ensemble of " + ", ".join(f"{m.name} (w={m.weight:g})" for m in meta.members)
        )
    lines += [
        f"- output: `{meta.output}`; label convention: {meta.label_convention}",
        "",
        "## Decision",
        "",
        f"- threshold {meta.threshold:.4f}; uncertain band {meta.uncertain_band}",
        "",
        "## Training data",
        "",
        "```json",
        json.dumps(meta.training_data, indent=2) if meta.training_data else "not recorded",
        "```",
        "",
        "## Metrics",
        "",
        "```json",
        json.dumps(meta.metrics, indent=2) if meta.metrics else "not measured",
        "```",
        "",
    ]
    if meta.command:
        lines += ["Produced by:", "", "```", meta.command, "```", ""]
    return "\n".join(lines)


def import_legacy(
    src: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    name: str,
    image_size: int | None = None,
    output: Literal["ai_probability", "real_probability"] = "real_probability",
    scale: Literal["unit", "raw"] = "unit",
    architecture: str = "seed-cnn",
    threshold: float = 0.5,
) -> ModelMetadata:
    """Carry a seed model file (HDF5 or .keras, whole image resized, 1/255, 1 = real) over.

    The input size is read from the model when not given.
    """
    src = Path(src)
    if image_size is None:
        image_size = _input_size_of(src)
    meta = {
        "name": name,
        "architecture": architecture,
        "version": "seed",
        "description": (
            f"Imported from the seed project's {src.name}: whole image resized to "
            f"{image_size}x{image_size}, pixels scaled by 1/255, output = P(real)."
        ),
        "format": "keras",
        "input": {"policy": "resize", "size": image_size, "scale": scale},
        "output": output,
        "label_convention": "model output: 1 = real (seed convention); API: 1 = AI-generated",
        "threshold": threshold,
        "command": f"aidetect models import-legacy {src} --name {name}",
    }
    return write_artifact(out_dir, meta, model_file=src)


def _input_size_of(src: Path) -> int:
    """Read a Keras model file's square input size (HDF5 needs an ``.h5`` name to load)."""
    import tempfile

    import keras

    with open(src, "rb") as f:
        is_h5 = f.read(8) == HDF5_MAGIC
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / ("m.h5" if is_h5 else "m.keras")
        shutil.copyfile(src, copy)
        model = keras.models.load_model(copy, compile=False, safe_mode=True)
    return int(model.input_shape[1])


def members_of(loaded: Loaded) -> Sequence[tuple[LoadedModel, float]]:
    if isinstance(loaded, LoadedEnsemble):
        return loaded.members
    return [(loaded, 1.0)]
