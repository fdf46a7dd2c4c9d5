"""A model trained and saved under Keras-JAX loads and predicts the same under TensorFlow.

The GPU training machine runs Keras on JAX (no TensorFlow there); serving here
runs on TensorFlow. Each half runs in its own process (the backend is fixed
when Keras is first imported). Needs ``jax`` installed (CPU wheel:
``pip install jax==0.10.2``); skipped otherwise.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("jax") is None,
    reason="jax is not installed (pip install jax==0.10.2) - cross-backend test skipped",
)

TRAIN_UNDER_JAX = """
import json, sys
import numpy as np
from aidetect.cli import main
from aidetect.datasets import list_samples
from aidetect.imaging import decode_file
from aidetect.preprocess import InputSpec, preprocess
data, out = sys.argv[1], sys.argv[2]
assert main(["train", "--data", data, "--arch", "cnn", "--cnn-variant", "improved",
             "--output", out, "--epochs", "1", "--batch-size", "16", "--workers", "1",
             "--quiet"]) == 0
import keras
assert keras.backend.backend() == "jax"
spec = InputSpec(**json.load(open(out + "/metadata.json"))["input"])
x = np.concatenate([preprocess(decode_file(s.path).pixels, spec)[0]
                    for s in list_samples(data)[:6]])
model = keras.models.load_model(out + "/model.keras", compile=False)
np.save(out + "/../x.npy", x)
np.save(out + "/../p_jax.npy", np.asarray(model.predict(x, verbose=0)))
"""

PREDICT_UNDER_TF = """
import sys
import numpy as np
import keras
from aidetect.registry import Registry
assert keras.backend.backend() == "tensorflow"
out = sys.argv[1]
reg = Registry(out + "/..")
loaded = reg.load("jax-cnn")
x = np.load(out + "/../x.npy")
np.save(out + "/../p_tf.npy", np.asarray(loaded.estimator.predict(x, verbose=0)))
"""


def _run(code: str, backend: str, *args: str) -> None:
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(REPO)}
    env.pop("CUDA_VISIBLE_DEVICES", None)
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_trained_under_jax_predicts_the_same_under_tensorflow(datasets, tmp_path):
    out = tmp_path / "jax-cnn"
    _run(TRAIN_UNDER_JAX, "jax", str(datasets["cifake"]), str(out))
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["framework"]["keras_backend"] == "jax"
    assert "jax" in meta["training"]["device"]
    _run(PREDICT_UNDER_TF, "tensorflow", str(out))
    p_jax, p_tf = np.load(tmp_path / "p_jax.npy"), np.load(tmp_path / "p_tf.npy")
    assert p_jax.shape == (6, 1)
    np.testing.assert_allclose(p_tf, p_jax, atol=1e-5)
