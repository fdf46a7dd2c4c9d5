"""The JPEG quality read from a file's quantisation tables, and what the verdict does with it."""

from __future__ import annotations

import io
import shutil

import pytest
from PIL import Image

from aidetect.compression import STD_LUMA, estimate_jpeg_quality, ijg_table, jpeg_quality_of
from aidetect.imaging import decode_image
from aidetect.inference import Detector
from aidetect.metadata import ModelScope, RobustnessFigure
from aidetect.registry import Registry, update_metadata
from aidetect.verdict import MIN_KEPT_DETECTION, compression_note, decide
from tests.support import images


def _open(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


@pytest.mark.parametrize("subsampling", [0, 2])
def test_every_pillow_quality_reads_back_exactly(subsampling):
    pixels = images.photo_like(64, 48, seed=1)
    wrong = {}
    for q in range(1, 101):
        est = jpeg_quality_of(_open(images.jpeg(pixels, quality=q, subsampling=subsampling)))
        if est != q:
            wrong[q] = est
    assert wrong == {}


def test_greyscale_jpeg_has_one_table_and_still_reads():
    data = images.encode(Image.fromarray(images.photo_like()[:, :, 0], "L"), "JPEG", quality=60)
    assert jpeg_quality_of(_open(data)) == 60


def test_custom_tables_give_the_nearest_ijg_quality():
    # a camera-like luminance table: libjpeg's quality 80 table with every entry one step up
    luma = (ijg_table(STD_LUMA, 80) + 1).astype(int).tolist()
    data = images.encode(images.photo_like(), "JPEG", qtables=[luma, luma])
    est = jpeg_quality_of(_open(data))
    assert est is not None and 70 <= est <= 80


def test_not_a_jpeg_has_no_quality():
    assert jpeg_quality_of(_open(images.png())) is None
    assert estimate_jpeg_quality(None) is None and estimate_jpeg_quality({0: [1, 2]}) is None


def test_decoding_records_the_quality():
    assert decode_image(images.jpeg(quality=77)).jpeg_quality == 77
    assert decode_image(images.png()).jpeg_quality is None


# --- the verdict's compression rule -------------------------------------------------------------
def fig(variant, detected, q=None, n_ai=100, n_real=50, webp=None):
    return RobustnessFigure(
        variant=variant,
        jpeg_quality=q,
        webp_quality=webp,
        test_set="t",
        n_real=n_real,
        n_ai=n_ai,
        roc_auc=0.7,
        detection_rate=detected,
        false_positive_rate=0.02,
    )


SCOPE = ModelScope(
    robustness=[
        fig("original", 0.60),
        fig("jpeg95", 0.40, 95),
        fig("jpeg90", 0.20, 90),
        fig("jpeg75", 0.05, 75),
        fig("webp80", 0.10, webp=80),
        fig("webp95", 0.20, webp=95),
        fig("downscale50", 0.50),
    ]
)


def test_the_nearest_measured_quality_decides():
    note = compression_note(SCOPE, jpeg_quality=97)
    assert note.measured_quality == 95 and note.real_supported  # 0.40 >= 0.5 * 0.60
    assert "quality 97" in note.summary and "quality 95" in note.summary and "40%" in note.summary
    note = compression_note(SCOPE, jpeg_quality=91)
    assert note.measured_quality == 90 and not note.real_supported  # 0.20 < 0.30
    assert "does not show" in note.summary
    assert compression_note(SCOPE, jpeg_quality=30).measured_quality == 75
    # halfway between two measured qualities: the harsher (lower) one
    two = ModelScope(
        robustness=[fig("original", 0.6), fig("jpeg90", 0.5, 90), fig("jpeg80", 0.1, 80)]
    )
    assert compression_note(two, jpeg_quality=85).measured_quality == 80


def test_a_lossy_webp_reads_the_mildest_measured_webp_copy():
    note = compression_note(SCOPE, webp_lossy=True)
    assert note.format == "WEBP" and note.jpeg_quality is None
    assert note.measured_quality == 95 and note.detection_rate == 0.20 and not note.real_supported
    assert "lossy WebP" in note.summary and "quality 95" in note.summary
    assert compression_note(SCOPE, webp_lossy=False) is None  # lossless: nothing lost
    jpeg_only = ModelScope(robustness=[fig("original", 0.6), fig("jpeg90", 0.5, 90)])
    unmeasured = compression_note(jpeg_only, webp_lossy=True)
    assert unmeasured.real_supported and "not measured" in unmeasured.summary


def test_webp_container_says_lossy_or_lossless():
    from aidetect.compression import webp_is_lossy

    pixels = images.photo_like()
    lossy = images.encode(pixels, "WEBP", quality=80)
    lossless = images.encode(pixels, "WEBP", lossless=True)
    assert webp_is_lossy(lossy) is True and webp_is_lossy(lossless) is False
    with_alpha = images.encode(Image.fromarray(pixels).convert("RGBA"), "WEBP", quality=80)
    assert webp_is_lossy(with_alpha) is True  # VP8X, ALPH, then VP8
    frames = [Image.fromarray(images.photo_like(seed=k)) for k in range(2)]
    buf = io.BytesIO()
    frames[0].save(buf, "WEBP", save_all=True, append_images=frames[1:], quality=70)
    assert webp_is_lossy(buf.getvalue()) is True  # inside an animation frame
    assert webp_is_lossy(images.png()) is None and webp_is_lossy(b"RIFF\0\0\0\0WEBP") is None
    assert decode_image(lossy).webp_lossy is True
    assert decode_image(lossless).webp_lossy is False
    assert decode_image(images.jpeg()).webp_lossy is None


@pytest.mark.parametrize("quality", [10, 40, 75, 90])
def test_a_lossy_webp_s_quality_is_estimated_from_its_quantisers(quality):
    from aidetect.compression import estimate_webp_quality, vp8_quantizers

    pixels = images.photo_like(320, 240, seed=2)
    data = images.encode(pixels, "WEBP", quality=quality)
    qs = vp8_quantizers(data)
    assert qs and all(0 <= q <= 127 for q in qs)
    assert abs(estimate_webp_quality(data) - quality) <= 3
    rgba = Image.fromarray(pixels).convert("RGBA")
    assert abs(estimate_webp_quality(images.encode(rgba, "WEBP", quality=quality)) - quality) <= 3
    harsher = vp8_quantizers(images.encode(pixels, "WEBP", quality=max(1, quality - 30)))
    assert sum(harsher) > sum(qs)  # coarser quantisers at a lower quality


def test_no_quality_for_what_is_not_a_lossy_webp():
    from aidetect.compression import estimate_webp_quality, vp8_quantizers

    lossless = images.encode(images.photo_like(), "WEBP", lossless=True)
    for data in (lossless, images.jpeg(), images.png(), b"", b"RIFF0000WEBPVP8 "):
        assert vp8_quantizers(data) is None and estimate_webp_quality(data) is None


def test_the_chunk_walk_is_bounded():
    """A WebP of many empty chunks before its image is not walked to the end (the
    provenance walk shares the walker and its cap)."""
    from aidetect.compression import MAX_RIFF_CHUNKS, riff_chunks, webp_is_lossy

    real = images.encode(images.photo_like(), "WEBP", quality=80)
    padded = real[:12] + b"JUNK\0\0\0\0" * (MAX_RIFF_CHUNKS + 10) + real[12:]
    assert webp_is_lossy(real) is True and webp_is_lossy(padded) is None
    assert len(list(riff_chunks(padded))) == MAX_RIFF_CHUNKS
    # a chunk that claims more bytes than there are ends the walk, marked
    assert list(riff_chunks(real[:12] + b"VP8 \xff\xff\0\0abc"))[-1][0] is None


def test_the_rule_is_relative_to_the_uncompressed_detections():
    at_edge = ModelScope(
        robustness=[fig("original", 0.6), fig("jpeg90", 0.6 * MIN_KEPT_DETECTION, 90)]
    )
    assert compression_note(at_edge, jpeg_quality=90).real_supported
    below = ModelScope(robustness=[fig("original", 0.6), fig("jpeg90", 0.29, 90)])
    assert not compression_note(below, jpeg_quality=90).real_supported


def test_unmeasured_models_keep_their_verdict_and_say_so():
    for scope in (None, ModelScope(), ModelScope(robustness=[fig("jpeg75", 0.1, 75)])):
        note = compression_note(scope, jpeg_quality=80)
        assert note.real_supported and note.measured_quality is None
        assert "not measured" in note.summary
    assert compression_note(SCOPE, jpeg_quality=None) is None  # not a JPEG


def ev(signal, strength):
    from aidetect.results import Evidence

    return Evidence(kind="test", signal=signal, strength=strength, detail="t")


@pytest.mark.parametrize(
    ("p", "evidence", "verdict", "rule"),
    [
        (0.1, [], "uncertain", "lossy_compression"),  # a low score says little here
        (0.5, [], "uncertain", "pixel_model"),  # uncertain anyway
        (0.9, [], "ai_generated", "pixel_model"),  # compression does not make fakes of reals
        (0.1, [ev("real", "strong")], "real", "strong_real_provenance"),
        (0.1, [ev("ai_generated", "moderate")], "ai_generated", "moderate_ai_provenance"),
        (0.1, [ev("ai_generated", "strong")], "ai_generated", "strong_ai_provenance"),
    ],
)
def test_decide_with_a_compression_that_hides_fakes(p, evidence, verdict, rule):
    note = compression_note(SCOPE, jpeg_quality=75)
    v, d = decide(p, 0.5, (0.3, 0.7), evidence, None, note)
    assert (v, d.rule) == (verdict, rule)
    assert d.compression == note and d.pixel_verdict == ("real" if p < 0.3 else d.pixel_verdict)


def test_decide_with_a_mild_compression_keeps_real():
    v, d = decide(0.1, 0.5, (0.3, 0.7), [], None, compression_note(SCOPE, jpeg_quality=96))
    assert (v, d.rule) == ("real", "pixel_model") and d.compression.real_supported


# --- end to end: a real (tiny) model, its metadata, the detector ----------------------------------
@pytest.fixture()
def measured_models(tiny_models, tmp_path):
    root = tmp_path / "models"
    shutil.copytree(tiny_models, root)
    update_metadata(root / "tiny-cnn", {"scope": SCOPE.model_dump()})
    return root


def test_the_detector_applies_the_model_s_own_measurements(measured_models):
    # threshold 1.0: every picture scores below it, so the pixel verdict is "real" throughout
    det = Detector(Registry(measured_models), provenance=False, threshold_override=1.0)
    pixels = images.photo_like(96, 64, seed=5)
    hard = det.detect(images.jpeg(pixels, quality=72), "tiny-cnn")
    assert hard.image.jpeg_quality == 72 and hard.decision.pixel_verdict == "real"
    assert (hard.verdict, hard.decision.rule) == ("uncertain", "lossy_compression")
    assert hard.decision.compression.measured_quality == 75
    mild = det.detect(images.jpeg(pixels, quality=96), "tiny-cnn")
    assert (mild.verdict, mild.decision.compression.measured_quality) == ("real", 95)
    lossless = det.detect(images.png(pixels), "tiny-cnn")
    assert lossless.verdict == "real" and lossless.decision.compression is None
    assert lossless.image.jpeg_quality is None
    webp = det.detect(images.encode(pixels, "WEBP", quality=90), "tiny-cnn")
    assert (webp.verdict, webp.decision.rule) == ("uncertain", "lossy_compression")
    assert webp.image.webp_lossy is True and webp.decision.compression.measured_quality == 95
    lossless_webp = det.detect(images.encode(pixels, "WEBP", lossless=True), "tiny-cnn")
    assert lossless_webp.verdict == "real" and lossless_webp.decision.compression is None
    # a model without measurements: the verdict stands, the answer says it was not measured
    other = det.detect(images.jpeg(pixels, quality=72), "tiny-svm")
    assert other.verdict == other.decision.pixel_verdict and other.decision.rule == "pixel_model"
    assert "not measured" in other.decision.compression.summary
