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
import logging
import os
import platform
import re
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import ValidationError

from aidetect.cards import model_card
from aidetect.errors import (
    ArtifactError,
    IntegrityError,
    InvalidModelNameError,
    UnknownModelError,
)
from aidetect.metadata import (  # noqa: F401  (re-exported)
    HeldOutFamily,
    Member,
    ModelMetadata,
    ModelScope,
    TrainedFamily,
)
from aidetect.preprocess import InputSpec

log = logging.getLogger(__name__)

METADATA_FILE = "metadata.json"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
MODEL_FILES = {"keras": "model.keras", "keras_h5": "model.h5", "sklearn": "model.joblib"}


def shorten(text: str, limit: int = 80) -> str:
    """``repr`` of user input cut to ``limit`` characters, so errors never echo it whole."""
    shown = repr(text[:limit]) if isinstance(text, str) else repr(text)[:limit]
    return shown + (f" (cut, {len(text):,} characters)" if len(str(text)) > limit else "")


def validate_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name) or ".." in name:
        raise InvalidModelNameError(
            "A model name is letters, digits, '.', '_' and '-' (no paths): "
            f"{shorten(name)} is not one."
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
        """The model marked ``default`` (else the only model; else, with several and none
        marked, the first by name, with a warning: nothing says which one was meant)."""
        metas = {n: self.metadata(n) for n in self.names()}
        for n, m in metas.items():
            if m.default:
                return n
        if len(metas) == 1:
            return next(iter(metas))
        first = next(iter(sorted(metas)), None)
        if first is not None:
            log.warning(
                "no model in %s is marked default; using %s, the first of %d by name (put "
                '"default": true in one metadata.json, or set AIDETECT_DEFAULT_MODEL)',
                self.root,
                first,
                len(metas),
            )
        return first

    def legacy_name(self) -> str | None:
        """The model behind the seed's ``POST /``: marked ``legacy``, else a resnet50;
        None when there is neither (the caller then uses its own default model, which
        ``AIDETECT_DEFAULT_MODEL`` may have chosen)."""
        metas = {n: self.metadata(n) for n in self.names()}
        for n, m in metas.items():
            if m.legacy:
                return n
        for n, m in metas.items():
            if m.architecture == "resnet50":
                return n
        return None

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
            return self._build(self.verify(name))

    def stage(self, metadata: ModelMetadata, estimator: Any = None) -> Loaded:
        """Serve an artifact whose ``metadata.json`` is not written yet.

        A training run puts its model file into ``<root>/<name>/``, stages it with
        provisional metadata, scores validation and test through the serving path,
        then writes the artifact once. The model file is checked against
        ``metadata.sha256`` and loaded as ``load`` would (unless the ``estimator``
        staged before is handed back); ensemble members are loaded from the registry.
        """
        with self._lock:
            name = validate_name(metadata.name)
            if metadata.format != "ensemble" and estimator is None:
                assert metadata.model_file is not None
                file = self.root / name / metadata.model_file
                if sha256_file(file) != metadata.sha256:
                    raise IntegrityError(f"{name}: {file.name} does not match its SHA-256")
            return self._build(metadata, estimator)

    def _build(self, meta: ModelMetadata, estimator: Any = None) -> Loaded:
        folder = self.root / meta.name
        loaded: Loaded
        if meta.format == "ensemble":
            members = []
            for m in meta.members or []:
                member = self.load(m.name)
                if not isinstance(member, LoadedModel):
                    raise ArtifactError(f"{meta.name}: nested ensembles are not supported")
                members.append((member, m.weight))
            loaded = LoadedEnsemble(meta, folder, members)
        else:
            if estimator is None:
                assert meta.model_file is not None
                estimator = _load_estimator(meta, folder / meta.model_file)
            loaded = LoadedModel(meta, folder, estimator)
        self._cache[meta.name] = loaded
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
def save_model_file(
    out_dir: str | os.PathLike[str],
    *,
    keras_model: Any = None,
    sklearn_model: Any = None,
    model_file: str | os.PathLike[str] | None = None,
    format: str = "keras",
) -> dict[str, str]:
    """Put the model file into ``out_dir``; returns ``format``, ``model_file`` and ``sha256``.

    Exactly one of ``keras_model`` (saved as ``.keras``), ``sklearn_model`` (joblib)
    or ``model_file`` (copied unless it is already there; HDF5 is detected by its
    magic bytes) is given.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if keras_model is not None:
        format = "keras"
        target = out / MODEL_FILES[format]
        keras_model.save(target)
    elif sklearn_model is not None:
        import joblib

        format = "sklearn"
        target = out / MODEL_FILES[format]
        joblib.dump(sklearn_model, target)
    elif model_file is not None:
        src = Path(model_file)
        with open(src, "rb") as f:
            is_h5 = f.read(8) == HDF5_MAGIC
        format = "keras_h5" if is_h5 else format
        target = out / MODEL_FILES[format]
        if src.resolve() != target.resolve():
            shutil.copyfile(src, target)
    else:
        raise ValueError("save_model_file needs a model to write")
    return {"format": format, "model_file": target.name, "sha256": sha256_file(target)}


def complete_metadata(metadata: dict[str, Any]) -> ModelMetadata:
    """Validated metadata with ``created`` and ``framework`` filled in."""
    meta = dict(metadata)
    validate_name(meta["name"])
    meta.setdefault("created", now_iso())
    meta.setdefault("framework", framework_versions())
    return ModelMetadata.model_validate(meta)


def write_artifact(
    out_dir: str | os.PathLike[str],
    metadata: dict[str, Any] | ModelMetadata,
    *,
    keras_model: Any = None,
    sklearn_model: Any = None,
    model_file: str | os.PathLike[str] | None = None,
) -> ModelMetadata:
    """Write ``out_dir/{model file, metadata.json, README.md}`` and return the metadata.

    The model comes as in ``save_model_file``, or is already in ``out_dir`` (its
    ``model_file`` and ``sha256`` in ``metadata``), or there is none (ensembles).
    The model card is always ``aidetect.cards.model_card`` of the metadata written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if isinstance(metadata, ModelMetadata):
        metadata = metadata.model_dump(mode="json", exclude_none=True)
    meta = dict(metadata)
    if any(x is not None for x in (keras_model, sklearn_model, model_file)):
        meta.update(
            save_model_file(
                out,
                keras_model=keras_model,
                sklearn_model=sklearn_model,
                model_file=model_file,
                format=meta.get("format", "keras"),
            )
        )
    elif meta.get("format") != "ensemble" and not meta.get("sha256"):
        raise ValueError("write_artifact needs a model to write")
    validated = complete_metadata(meta)
    (out / METADATA_FILE).write_text(
        json.dumps(validated.model_dump(mode="json", exclude_none=True), indent=2) + "\n"
    )
    (out / "README.md").write_text(model_card(validated))
    return validated


def update_metadata(model_dir: str | os.PathLike[str], fields: dict[str, Any]) -> ModelMetadata:
    """Add or replace top-level fields of an artifact's ``metadata.json`` (results measured
    after training, such as held-out evaluations), and re-render its card. The model file
    is untouched, so its recorded SHA-256 stays valid."""
    meta = json.loads((Path(model_dir) / METADATA_FILE).read_text())
    meta.update(fields)
    return write_artifact(model_dir, meta)


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
