"""Helpers for the provenance tests: images, certificates and signers, all made here."""

from __future__ import annotations

import datetime as dt
import io
import struct
import sys
import types
import zlib
from dataclasses import dataclass

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from aidetect.results import Evidence
from aidetect.verdict import decide

THRESHOLD, BAND = 0.5, (0.3, 0.7)
BORDERLINE, CONFIDENT_REAL, CONFIDENT_AI = 0.5, 0.05, 0.95

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
A1111 = (
    "a photo of an astronaut riding a horse\nNegative prompt: blurry\n"
    "Steps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1234567, Size: 512x512, "
    "Model hash: 6ce0161689, Model: v1-5-pruned-emaonly"
)


def triples(evidence: list[Evidence]) -> list[tuple[str, str, str]]:
    return [(e.kind, e.signal, e.strength) for e in evidence]


def verdicts(evidence: list[Evidence]) -> tuple[str, str, str]:
    """Final verdicts for a borderline, a confidently-real and a confidently-AI pixel score."""
    return tuple(
        decide(p, THRESHOLD, BAND, evidence)[0] for p in (BORDERLINE, CONFIDENT_REAL, CONFIDENT_AI)
    )  # type: ignore[return-value]


PIXEL_ONLY = ("uncertain", "real", "ai_generated")  # what the pixels alone decide
AI_DECIDES = ("ai_generated", "ai_generated", "ai_generated")
MODERATE_AI = ("ai_generated", "real", "ai_generated")
STRONG_REAL = ("real", "real", "ai_generated")


def natural_rgb(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth, photo-like RGB image with some noise (uint8)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    img = np.stack(
        [
            128 + 60 * np.sin(xx / 37) + 40 * np.cos(yy / 23),
            100 + 50 * np.sin((xx + yy) / 51),
            90 + 70 * np.cos(xx / 19 - yy / 41),
        ],
        axis=-1,
    )
    return np.clip(img + rng.normal(0, 6, img.shape), 0, 255).astype(np.uint8)


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    if fmt == "PNG" and "xmp" in kw:  # Pillow's PNG writer ignores xmp=: use an iTXt chunk
        info = kw.pop("pnginfo", None) or PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", kw.pop("xmp").decode("utf-8"))
        kw["pnginfo"] = info
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def small(color: str = "steelblue") -> Image.Image:
    return Image.new("RGB", (64, 48), color)


def png_with_text(items: dict[str, str], *, itxt_zip: bool = False) -> bytes:
    info = PngImagePlugin.PngInfo()
    for k, v in items.items():
        if itxt_zip:
            info.add_itxt(k, v, zip=True)
        else:
            info.add_text(k, v)
    return encode(small(), "PNG", pnginfo=info)


def png_chunk(ctype: bytes, body: bytes) -> bytes:
    return (
        struct.pack(">I", len(body))
        + ctype
        + body
        + struct.pack(">I", zlib.crc32(ctype + body) & 0xFFFFFFFF)
    )


def insert_before_iend(png: bytes, chunk: bytes) -> bytes:
    i = png.rindex(b"IEND") - 4
    return png[:i] + chunk + png[i:]


def xmp_packet(term: str | None = None, *, attribute: bool = False, extra: str = "") -> bytes:
    value = f"{IPTC}{term}" if term else ""
    if attribute:
        desc = f'<rdf:Description rdf:about="" Iptc4xmpExt:DigitalSourceType="{value}"{extra}/>'
    else:
        desc = (
            f'<rdf:Description rdf:about="">{extra}'
            f"<Iptc4xmpExt:DigitalSourceType>{value}</Iptc4xmpExt:DigitalSourceType>"
            "</rdf:Description>"
        )
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
        'xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"{desc}</rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    ).encode()


def camera_exif(**extra: object) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "Canon EOS R6"
    sub = exif.get_ifd(0x8769)
    sub[0x829A] = 1 / 250
    sub[0x829D] = 2.8
    sub[0x8827] = 400
    for tag, value in extra.items():
        exif[int(tag, 16)] = value
    return exif


# --- invisible-watermark -------------------------------------------------------------------------
def imwatermark():
    """``import imwatermark`` without torch: its rivaGan module imports torch at import
    time, and we only use dwtDct. A stand-in module takes rivaGan's place."""
    if "imwatermark.rivaGan" not in sys.modules:
        try:
            import torch  # noqa: F401
        except ImportError:
            stub = types.ModuleType("imwatermark.rivaGan")

            class RivaWatermark:  # pragma: no cover - never used
                def __init__(self, *a, **k):
                    raise RuntimeError("rivaGan needs torch")

            stub.RivaWatermark = RivaWatermark
            sys.modules["imwatermark.rivaGan"] = stub
    import imwatermark

    return imwatermark


# --- C2PA ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PKI:
    ca_pem: str
    chain_pem: bytes
    key_pem: bytes


@pytest.fixture(scope="session")
def pki() -> PKI:
    """A test CA and an ES256 end-entity certificate that c2pa accepts for signing:
    digitalSignature key usage, extendedKeyUsage emailProtection, not a CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def name(cn: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, cn),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "aidetect tests"),
            ]
        )

    def usage(ca: bool) -> x509.KeyUsage:
        return x509.KeyUsage(
            digital_signature=True,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=ca,
            crl_sign=ca,
            encipher_only=False,
            decipher_only=False,
        )

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("aidetect Test CA"))
        .issuer_name(name("aidetect Test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage(True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    ee_key = ec.generate_private_key(ec.SECP256R1())
    ee = (
        x509.CertificateBuilder()
        .subject_name(name("aidetect Test Signer"))
        .issuer_name(ca.subject)
        .public_key(ee_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage(False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ee_key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return PKI(
        ca_pem=ca.public_bytes(pem).decode(),
        chain_pem=ee.public_bytes(pem) + ca.public_bytes(pem),
        key_pem=ee_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )


def c2pa_sign(
    pki: PKI, source: bytes, mime: str, source_type: str | None, *, callback: bool = False
) -> bytes:
    """Sign ``source`` with a manifest whose c2pa.created action declares ``source_type``."""
    import c2pa
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    action: dict[str, object] = {"action": "c2pa.created"}
    if source_type:
        action["digitalSourceType"] = IPTC + source_type
    if not source_type:  # c2pa.created must carry a source type: "opened" a parent instead
        action = {"action": "c2pa.opened", "parameters": {"ingredientIds": ["parent"]}}
    assertion = {"label": "c2pa.actions", "data": {"actions": [action]}}
    manifest = {
        "claim_generator_info": [{"name": "aidetect-tests", "version": "0.1"}],
        "title": "fixture",
        "assertions": [assertion],
    }
    if callback:  # a callback signer, as a hardware key or KMS would be used
        key = serialization.load_pem_private_key(pki.key_pem, password=None)

        def sign(data: bytes) -> bytes:
            from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

            der = key.sign(data, ec.ECDSA(hashes.SHA256()))
            r, s = decode_dss_signature(der)
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")  # COSE wants raw r||s

        signer = c2pa.Signer.from_callback(sign, c2pa.C2paSigningAlg.ES256, pki.chain_pem.decode())
    else:
        signer = c2pa.Signer.from_info(
            c2pa.C2paSignerInfo(b"es256", pki.chain_pem, pki.key_pem, None)
        )
    ctx = c2pa.Context(
        settings=c2pa.Settings.from_dict({"builder": {"thumbnail": {"enabled": False}}})
    )
    out = io.BytesIO()
    with c2pa.Builder(manifest, ctx) as builder:
        if not source_type:
            builder.add_ingredient(
                {"title": "parent", "relationship": "parentOf", "label": "parent"},
                mime,
                io.BytesIO(source),
            )
        builder.sign(signer, mime, io.BytesIO(source), out)
    return out.getvalue()


def tamper_jpeg_pixels(data: bytes) -> bytes:
    """Change entropy-coded pixel bytes (after the last SOS), leaving metadata intact."""
    sos = data.rindex(b"\xff\xda")
    b = bytearray(data)
    for i in range(sos + 40, len(b) - 4, 97):
        if b[i] not in (0xFF, 0xFE, 0x00):
            b[i] ^= 0x01
    return bytes(b)
