import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aidetect.corpus.build import build_corpus, expand_generators, read_rows
from aidetect.corpus.esrgan import Upscaler, depth_to_space, read_weights
from aidetect.datasets import family_of
from aidetect_training.experiments.shared import kind_of
from tests.support.corpus import check_sr_fakes, psnr

CHINA = Path(__import__("sklearn.datasets").datasets.__file__).parent / "images" / "china.jpg"


def test_depth_to_space_matches_tensorflow():
    tf = pytest.importorskip("tensorflow")
    x = np.arange(2 * 3 * 4 * 12, dtype=np.float32).reshape(2, 3, 4, 12)
    ours = np.asarray(depth_to_space(x, 2))
    assert np.array_equal(ours, tf.nn.depth_to_space(x, 2).numpy())


def test_port_reproduces_upscalerjs_sample(slim_package: Path):
    """The package ships UpscalerJS's own x2 output for its fixture: we match it to +-1."""
    fixture = np.asarray(Image.open(slim_package / "assets" / "fixture.png").convert("RGB"))
    expected = np.asarray(
        Image.open(slim_package / "assets" / "samples" / "2x" / "result.png").convert("RGB")
    )
    got = Upscaler.load(slim_package, "slim", 2).upscale(fixture)
    assert got.shape == expected.shape
    assert np.abs(got.astype(int) - expected.astype(int)).max() <= 1


def _hf_energy(img: np.ndarray) -> float:
    g = img.astype(np.float64).mean(axis=2)
    lap = 4 * g[1:-1, 1:-1] - g[:-2, 1:-1] - g[2:, 1:-1] - g[1:-1, :-2] - g[1:-1, 2:]
    return float(np.mean(lap**2))


def test_upscale_is_sharper_than_bicubic(slim_package: Path):
    original = np.asarray(Image.open(CHINA).convert("RGB"))[150:278, 100:228]
    low = Image.fromarray(original).resize((32, 32), Image.BICUBIC)
    sr = Upscaler.load(slim_package, "slim", 4).upscale(np.asarray(low))
    bicubic = np.asarray(low.resize((128, 128), Image.BICUBIC))
    assert sr.shape == original.shape and sr.dtype == np.uint8
    assert _hf_energy(sr) > 1.2 * _hf_energy(bicubic)
    # still the same picture: close to the original at low frequencies
    blur = lambda a: np.asarray(Image.fromarray(a).resize((16, 16), Image.BOX), dtype=float)  # noqa: E731
    assert np.abs(blur(sr) - blur(original)).mean() < 12


def test_dequantized_weights_match_the_float_h5(idealo_package: Path):
    """@upscalerjs/models ships idealo's psnr-small both as uint8-quantized TF.js weights
    and as the float Keras .h5: dequantized, every weight is within half a step of it."""
    h5py = pytest.importorskip("h5py")
    folder = idealo_package / "models" / "idealo" / "psnr-small-quant-uint8"
    model_json = json.loads((folder / "model.json").read_text())
    ours = read_weights(model_json, folder)
    floats: dict[str, np.ndarray] = {}
    with h5py.File(folder / "image-super-resolution-psnr-small.h5", "r") as f:
        root = f.get("model_weights", f)

        def grab(name: str, obj) -> None:
            if isinstance(obj, h5py.Dataset):  # "F_1_1/F_1_1/kernel:0" -> "F_1_1/kernel"
                parts = name.split("/")
                floats[f"{parts[0]}/{parts[-1].split(':')[0]}"] = obj[()]

        root.visititems(grab)
    assert set(ours) == set(floats) and len(ours) > 50
    manifest = model_json["weightsManifest"]
    step = {w["name"]: w["quantization"]["scale"] for g in manifest for w in g["weights"]}
    for name, value in ours.items():
        assert value.dtype == np.float32 and value.shape == floats[name].shape
        assert np.abs(value - floats[name]).max() <= 0.5 * step[name] * (1 + 1e-3), name


def test_idealo_gans_is_faithful_and_sharp(idealo_package: Path):
    """idealo's GAN RRDN x4 in its 0..1 range: the same picture, sharper than bicubic."""
    original = np.asarray(Image.open(CHINA).convert("RGB"))[150:278, 100:228]
    low = Image.fromarray(original).resize((32, 32), Image.BICUBIC)
    up = Upscaler.load(idealo_package, "idealo-gans", 4)
    sr = up.upscale(np.asarray(low))
    bicubic = np.asarray(low.resize((128, 128), Image.BICUBIC))
    assert sr.shape == original.shape and sr.dtype == np.uint8
    assert _hf_energy(sr) > 1.2 * _hf_energy(bicubic)
    blur = lambda a: np.asarray(Image.fromarray(a).resize((16, 16), Image.BOX), dtype=float)  # noqa: E731
    assert np.abs(blur(sr) - blur(original)).mean() < 12
    # the range is not a guess: in the loader's range (0..1) the raw output stays within
    # 0..255 (to 10 grey levels) and is nearer the original than in the other one
    ours, other = up.value_range, 255.0 if up.value_range == 1.0 else 1.0
    raw = {}
    for value_range in (ours, other):
        x = np.asarray(low, dtype=np.float32)[None] * (value_range / 255.0)
        raw[value_range] = np.asarray(up.model.predict_on_batch(x))[0] * (255.0 / value_range)
    outside = {k: np.mean((v < -10) | (v > 265)) for k, v in raw.items()}
    assert outside[ours] < 0.001 and outside[other] > 0.01
    err = {k: psnr(np.clip(np.rint(v), 0, 255), original.astype(float)) for k, v in raw.items()}
    assert err[ours] > err[other] + 1.0


def test_build_makes_idealo_gans_fakes(tmp_path, idealo_package: Path, npm_cache: Path):
    assert "esrgan-idealo-gans-x4" not in expand_generators(None)  # not a default
    assert expand_generators("esrgan-idealo-gans") == ["esrgan-idealo-gans-x4"]
    out = tmp_path / "corpus"
    build_corpus(
        out,
        sources="installed",
        crop=64,
        max_crops_per_photo=2,
        families="esrgan-idealo-gans",
        npm_cache=npm_cache,
        workers=1,
    )
    rows = read_rows(out / "manifest.csv")
    fakes = [r for r in rows if r["label"] == "1"]
    assert fakes and {r["generator"] for r in fakes} == {"esrgan-idealo-gans-x4"}
    assert check_sr_fakes(out, rows, ["esrgan-idealo-gans-x4"], 64, lambda g: 4) == len(fakes)
    summary = json.loads((out / "summary.json").read_text())
    (gen,) = summary["generators"]
    assert gen["family"] == "esrgan-idealo-gans" == family_of(gen["generator"])
    assert gen["package"] == "@upscalerjs/models@0.9.0"
    assert kind_of("esrgan-idealo-gans") == "super-resolution"
