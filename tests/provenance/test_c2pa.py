"""C2PA manifests signed here with c2pa-python and a test CA made with cryptography."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from aidetect.provenance import TRUST_ANCHORS_ENV, _c2pa, analyse

from .support import (
    AI_DECIDES,
    MODERATE_AI,
    PIXEL_ONLY,
    STRONG_REAL,
    c2pa_sign,
    camera_exif,
    encode,
    natural_rgb,
    tamper_jpeg_pixels,
    triples,
    verdicts,
)


@pytest.fixture(scope="module")
def photo() -> bytes:
    return encode(Image.fromarray(natural_rgb(120, 160)), "JPEG", quality=90)


@pytest.fixture(scope="module")
def signed(pki, photo) -> dict[str, bytes]:
    return {
        "ai": c2pa_sign(pki, photo, "image/jpeg", "trainedAlgorithmicMedia"),
        "capture": c2pa_sign(pki, photo, "image/jpeg", "digitalCapture", callback=True),
        "none": c2pa_sign(pki, photo, "image/jpeg", None),
    }


def test_ai_manifest_is_strong_ai_even_from_an_untrusted_signer(signed):
    ev = analyse(signed["ai"])
    assert triples(ev) == [("c2pa", "ai_generated", "strong")]
    assert "trainedAlgorithmicMedia" in ev[0].detail
    assert "aidetect Test Signer" in ev[0].detail
    assert "not on the trust list" in ev[0].detail
    assert verdicts(ev) == AI_DECIDES


def test_ai_manifest_from_a_trusted_signer(signed, pki):
    ev = analyse(signed["ai"], trust_anchors_pem=pki.ca_pem)
    assert triples(ev) == [("c2pa", "ai_generated", "strong")]
    assert "trusted" in ev[0].detail and "not on the trust list" not in ev[0].detail


def test_capture_claim_from_an_untrusted_signer_is_only_moderate(signed):
    ev = analyse(signed["capture"])
    assert triples(ev) == [("c2pa", "real", "moderate")]
    assert "digitalCapture" in ev[0].detail
    assert verdicts(ev) == PIXEL_ONLY  # moderate real evidence never decides


def test_capture_claim_from_a_trusted_signer_is_strong_real(signed, pki):
    ev = analyse(signed["capture"], trust_anchors_pem=pki.ca_pem.encode())
    assert triples(ev) == [("c2pa", "real", "strong")]
    assert verdicts(ev) == STRONG_REAL


def test_trust_anchors_from_the_environment(signed, pki, tmp_path, monkeypatch):
    anchors = tmp_path / "anchors.pem"
    anchors.write_text(pki.ca_pem)
    monkeypatch.setenv(TRUST_ANCHORS_ENV, str(anchors))
    assert triples(analyse(signed["capture"])) == [("c2pa", "real", "strong")]
    monkeypatch.setenv(TRUST_ANCHORS_ENV, str(tmp_path / "missing.pem"))
    assert triples(analyse(signed["capture"])) == [("c2pa", "real", "moderate")]


def test_tampered_capture_fails_validation(signed, pki):
    bad = tamper_jpeg_pixels(signed["capture"])
    for anchors in (None, pki.ca_pem):
        ev = analyse(bad, trust_anchors_pem=anchors)
        assert triples(ev) == [("c2pa", "neutral", "weak")]
        assert "FAILED" in ev[0].detail and "assertion.dataHash.mismatch" in ev[0].detail
        assert verdicts(ev) == PIXEL_ONLY


def test_tampered_ai_claim_is_at_most_moderate(signed):
    ev = analyse(tamper_jpeg_pixels(signed["ai"]))
    assert triples(ev) == [("c2pa", "neutral", "weak"), ("c2pa", "ai_generated", "moderate")]
    assert verdicts(ev) == MODERATE_AI


def test_manifest_without_source_type_is_neutral(signed):
    ev = analyse(signed["none"])
    assert triples(ev) == [("c2pa", "neutral", "weak")]
    assert "no digitalSourceType" in ev[0].detail
    assert verdicts(ev) == PIXEL_ONLY


@pytest.mark.parametrize(("fmt", "mime"), [("PNG", "image/png"), ("WEBP", "image/webp")])
def test_composite_in_png_and_webp(pki, fmt, mime):
    src = encode(Image.fromarray(natural_rgb(96, 128, seed=2)), fmt)
    data = c2pa_sign(pki, src, mime, "compositeWithTrainedAlgorithmicMedia")
    ev = analyse(data, Image.open(io.BytesIO(data)))
    assert triples(ev) == [("c2pa", "ai_generated", "strong")]
    assert "composite" in ev[0].detail
    assert verdicts(ev) == AI_DECIDES


def test_signed_camera_jpeg_keeps_its_exif_evidence(pki):
    src = encode(Image.fromarray(natural_rgb(96, 128, seed=3)), "JPEG", exif=camera_exif())
    data = c2pa_sign(pki, src, "image/jpeg", "digitalCapture")
    ev = analyse(data, trust_anchors_pem=pki.ca_pem)
    assert triples(ev) == [("c2pa", "real", "strong"), ("exif", "real", "weak")]
    assert verdicts(ev) == STRONG_REAL


def test_c2pa_is_not_called_for_ordinary_images(monkeypatch, photo):
    def boom(*a, **k):
        raise AssertionError("c2pa must not be called")

    monkeypatch.setattr(_c2pa, "read", boom)
    for data in (
        photo,
        encode(Image.open(io.BytesIO(photo)), "PNG"),
        encode(Image.open(io.BytesIO(photo)), "WEBP"),
    ):
        assert analyse(data) == []


def test_broken_jumbf_is_a_neutral_note_or_nothing(photo):
    # An APP11 segment that looks like a C2PA JUMBF box but holds garbage.
    body = b"JP\x00\x01\x00\x00\x00\x01" + b"\x00\x00\x00\x40jumb" + b"\x13" * 56
    seg = b"\xff\xeb" + (len(body) + 2).to_bytes(2, "big") + body
    ev = analyse(photo[:2] + seg + photo[2:])
    assert triples(ev) in ([], [("c2pa", "neutral", "weak")])
    assert verdicts(ev) == PIXEL_ONLY


def test_the_trust_anchor_setting_reaches_the_service(signed, pki, tiny_models, tmp_path):
    """AIDETECT_C2PA_TRUST_ANCHORS (the typed setting) -> Detector -> analyser -> verdict."""
    from aidetect.inference import Detector
    from aidetect.registry import Registry
    from aidetect.settings import Settings, read_trust_anchors

    anchors = tmp_path / "anchors.pem"
    anchors.write_text(pki.ca_pem)
    for path, expected in ((None, "moderate"), (anchors, "strong")):
        pem = read_trust_anchors(Settings(c2pa_trust_anchors=path))
        detector = Detector(Registry(tiny_models), trust_anchors_pem=pem)
        result = detector.detect(signed["capture"], "tiny-svm")
        assert [(e.kind, e.signal, e.strength) for e in result.evidence] == [
            ("c2pa", "real", expected)
        ]
