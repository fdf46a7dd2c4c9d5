"""``analyse()``: every provenance check on one file, graded (see the package docstring)."""

from __future__ import annotations

import io
import logging
import os
import re
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from aidetect.results import Evidence

from . import _c2pa, _watermark
from ._containers import Container, scan
from ._generators import (
    classify_parameters,
    clean,
    decode_user_comment,
    generator_name,
    load_json,
)
from ._xmp import XmpError, read_xmp

log = logging.getLogger(__name__)

TRUST_ANCHORS_ENV = "AIDETECT_C2PA_TRUST_ANCHORS"
MAX_TRUST_FILE = 4 << 20
# Without the caller's pixels the watermark check decodes the image itself; not past this.
MAX_DECODE_PIXELS = 50_000_000

AI_XMP_STRONG = {"trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia"}
CAPTURE_XMP = {"digitalCapture", "negativeFilm", "positiveFilm"}

# PNG text keys under which generators store their records
PARAMETER_KEYS = (
    "parameters",
    "prompt",
    "workflow",
    "Comment",
    "comment",
    "generation_data",
    "sui_image_params",
)
INVOKEAI_KEYS = ("invokeai_metadata", "invokeai_graph", "invokeai_workflow", "sd-metadata")
_DREAM = re.compile(r"-s\s*\d+.*-S\s*\d+|-S\s*\d+.*-s\s*\d+", re.DOTALL)

# EXIF tags
MAKE, MODEL, SOFTWARE, ORIENTATION, EXIF_IFD = 0x010F, 0x0110, 0x0131, 0x0112, 0x8769
EXPOSURE_TIME, F_NUMBER, ISO, USER_COMMENT = 0x829A, 0x829D, 0x8827, 0x9286


def analyse(
    data: bytes,
    image: Image.Image | None = None,
    rgb: np.ndarray | None = None,
    *,
    trust_anchors_pem: str | bytes | None = None,
    watermark: bool = True,
) -> list[Evidence]:
    """Provenance evidence found in the original bytes of an image.

    ``data``: the file's bytes as uploaded (before any re-encoding).
    ``image``: the same bytes already opened with Pillow, unconverted (optional;
    used for formats other than JPEG/PNG/WebP and, when ``rgb`` is absent, for
    the watermark pixels). ``rgb``: the decoded pixels, HxWx3 uint8, upright
    (EXIF orientation applied), to spare a second decode. ``trust_anchors_pem``:
    PEM certificates trusted as C2PA signers (default: the file named by
    ``AIDETECT_C2PA_TRUST_ANCHORS``, else none). ``watermark``: run the
    invisible-watermark decoder.

    Never raises on bad input: a malformed part gives no evidence or a neutral note.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)) or not data:
        return []
    data = bytes(data)
    out: list[Evidence] = []
    container = _guard(lambda: scan(data), Container()) or Container()
    own_image = False
    if image is None and (container.format is None or (watermark and rgb is None)):
        image, own_image = _open(data), True
    try:
        _guard(lambda: _fill_from_pillow(container, image, data), None)
        exif = _guard(lambda: _load_exif(container, image), None)
        anchors = _guard(lambda: _trust_anchors(trust_anchors_pem), None)
        if container.has_c2pa:
            out += _guard(lambda: _c2pa.read(data, container.format or _fmt(image), anchors), [])
        out += _guard(lambda: _xmp_evidence(container), [])
        if container.format == "PNG":
            out += _guard(lambda: _png_text_evidence(container), [])
        if container.comments:
            out += _guard(lambda: _comment_evidence(container), [])
        if exif is not None:
            out += _guard(lambda: _exif_generator_evidence(exif), [])
        if watermark:
            out += _guard(lambda: _watermark_evidence(image, rgb, exif), [])
        if exif is not None:
            out += _guard(lambda: _camera_evidence(exif), [])
    finally:
        if own_image and image is not None:
            image.close()
    return out


# --- plumbing ---------------------------------------------------------------------------------
def _guard(fn: Callable[[], Any], default: Any) -> Any:
    """Run one check; hostile input must never turn into an exception for the caller."""
    try:
        return fn()
    except Exception:  # a bug or a hostile file in one check must not hide the others
        log.debug("provenance check failed", exc_info=True)
        return default


def _open(data: bytes) -> Image.Image | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Image.open(io.BytesIO(data))
    except Exception:
        return None


def _fmt(image: Image.Image | None) -> str | None:
    return getattr(image, "format", None) if image is not None else None


def _fill_from_pillow(c: Container, image: Image.Image | None, data: bytes) -> None:
    """Formats we do not walk ourselves (TIFF, GIF, HEIF, ...): use Pillow's metadata."""
    if c.format is not None:
        return
    if image is not None:
        info = image.info
        for key in ("xmp", "XML:com.adobe.xmp"):
            v = info.get(key)
            if isinstance(v, str):
                v = v.encode("utf-8", "replace")
            if isinstance(v, (bytes, bytearray)) and v:
                c.xmp.append(bytes(v[: 2 << 20]))
        raw = info.get("exif")
        if isinstance(raw, (bytes, bytearray)):
            c.exif = bytes(raw)
        comment = info.get("comment")
        if isinstance(comment, (bytes, bytearray, str)) and comment:
            c.comments.append(comment.encode() if isinstance(comment, str) else bytes(comment))
    c.has_c2pa = b"c2pa" in data


_trust_cache: dict[tuple[str, float], str] = {}
_trust_lock = threading.Lock()


def _trust_anchors(pem: str | bytes | None) -> str | None:
    if pem:
        return pem.decode("ascii", "replace") if isinstance(pem, bytes) else pem
    path = os.environ.get(TRUST_ANCHORS_ENV)
    if not path:
        return None
    try:
        p = Path(path)
        key = (str(p), p.stat().st_mtime)
        with _trust_lock:
            if key not in _trust_cache:
                if p.stat().st_size > MAX_TRUST_FILE:
                    raise ValueError("trust anchor file too large")
                _trust_cache.clear()
                _trust_cache[key] = p.read_text("ascii", "replace")
            return _trust_cache[key]
    except (OSError, ValueError):
        log.warning("cannot read C2PA trust anchors from %s=%s", TRUST_ANCHORS_ENV, path)
        return None


# --- XMP --------------------------------------------------------------------------------------
def _xmp_evidence(c: Container) -> list[Evidence]:
    out: list[Evidence] = []
    seen: set[str] = set()
    for packet in c.xmp[:4]:
        try:
            terms, tools = read_xmp(packet)
        except XmpError as exc:
            out.append(
                Evidence(
                    kind="xmp",
                    signal="neutral",
                    strength="weak",
                    detail=f"XMP metadata ignored: {exc}",
                )
            )
            continue
        for term in terms:
            if term in seen:
                continue
            seen.add(term)
            out.append(_xmp_term(term))
        for tool in tools:
            name = generator_name(tool)
            if name and f"tool:{name}" not in seen and not seen & AI_XMP_STRONG:
                seen.add(f"tool:{name}")
                out.append(
                    Evidence(
                        kind="xmp",
                        signal="ai_generated",
                        strength="moderate",
                        detail=f"XMP CreatorTool '{clean(tool, 60)}' names an image "
                        "generator (easily edited metadata).",
                    )
                )
    return out


def _xmp_term(term: str) -> Evidence:
    pre = f"IPTC DigitalSourceType '{term}' in XMP"
    if term == "trainedAlgorithmicMedia":
        return Evidence(
            kind="xmp",
            signal="ai_generated",
            strength="strong",
            detail=f"{pre}: declared as created by a trained AI model.",
        )
    if term == "compositeWithTrainedAlgorithmicMedia":
        return Evidence(
            kind="xmp",
            signal="ai_generated",
            strength="strong",
            detail=f"{pre}: declared as a composite that includes generative-AI content.",
        )
    if term == "algorithmicMedia":
        return Evidence(
            kind="xmp",
            signal="ai_generated",
            strength="moderate",
            detail=f"{pre}: declared as algorithmic media (not necessarily a trained model).",
        )
    if term in CAPTURE_XMP:
        return Evidence(
            kind="xmp",
            signal="real",
            strength="weak",
            detail=f"{pre}: declared as a capture; XMP is trivially editable, so "
            "this only informs.",
        )
    return Evidence(
        kind="xmp",
        signal="neutral",
        strength="weak",
        detail=f"{pre} (neither AI nor camera capture).",
    )


# --- generator parameters ---------------------------------------------------------------------
def _png_text_evidence(c: Container) -> list[Evidence]:
    texts: dict[str, str] = {}
    for key, value in c.texts:
        texts.setdefault(key, value)
    found: list[str] = []
    software = texts.get("Software", "").strip()
    for key in PARAMETER_KEYS:
        if key in texts:
            label = classify_parameters(texts[key])
            if label and key == "prompt" and not label.startswith("ComfyUI"):
                label = None  # a bare "prompt" chunk must be a ComfyUI graph to count
            if label:
                if key.lower() == "comment" and software == "NovelAI":
                    label = "NovelAI generation parameters"
                if key == "parameters" and "fooocus_scheme" in texts and "Fooocus" not in label:
                    label = f"Fooocus {label}"
                found.append(f"'{key}' holds {label}")
    for key in INVOKEAI_KEYS:
        if key in texts and load_json(texts[key]) is not None:
            found.append(f"'{key}' holds InvokeAI metadata")
    if "Dream" in texts and _DREAM.search(texts["Dream"][:4096]):
        found.append("'Dream' holds InvokeAI (legacy) generation options")
    if found:
        return [
            Evidence(
                kind="png_text",
                signal="ai_generated",
                strength="strong",
                detail="Generator parameters embedded in PNG text chunks: "
                + "; ".join(found)
                + ". Written by the generator; stripped by "
                "any re-save that drops metadata.",
            )
        ]
    out: list[Evidence] = []
    name = generator_name(software) if software else None
    if name:
        out.append(
            Evidence(
                kind="png_text",
                signal="ai_generated",
                strength="moderate",
                detail=f"PNG 'Software' text names an image generator "
                f"('{clean(software, 60)}'); easily edited.",
            )
        )
    elif "fooocus_scheme" in texts:
        out.append(
            Evidence(
                kind="png_text",
                signal="ai_generated",
                strength="moderate",
                detail="PNG text chunk 'fooocus_scheme' (Fooocus) without parameters.",
            )
        )
    if c.truncated_text:
        out.append(
            Evidence(
                kind="png_text",
                signal="neutral",
                strength="weak",
                detail="A PNG text chunk exceeded 1 MB and was read only in part.",
            )
        )
    return out


def _comment_evidence(c: Container) -> list[Evidence]:
    kind = "jpeg_comment" if c.format == "JPEG" else "comment"
    for raw in c.comments[:8]:
        label = classify_parameters(raw.decode("utf-8", "replace"))
        if label:
            return [
                Evidence(
                    kind=kind,
                    signal="ai_generated",
                    strength="strong",
                    detail=f"File comment holds {label}, as written by the generator.",
                )
            ]
    return []


def _load_exif(c: Container, image: Image.Image | None) -> Image.Exif | None:
    if c.exif:
        exif = Image.Exif()
        exif.load(c.exif)
        return exif
    if image is not None and _fmt(image) == "TIFF":
        return image.getexif()
    return None


def _text(v: Any) -> str:
    if isinstance(v, bytes):
        v = v.decode("utf-8", "replace")
    return str(v).strip("\x00 \t\r\n") if v is not None else ""


def _exif_generator_evidence(exif: Image.Exif) -> list[Evidence]:
    found: list[str] = []
    try:
        sub = exif.get_ifd(EXIF_IFD)
    except Exception:
        sub = {}
    comment = sub.get(USER_COMMENT) if sub else None
    if comment is not None:
        label = classify_parameters(decode_user_comment(comment))
        if label:
            found.append(f"UserComment holds {label}")
    for tag, name in ((MAKE, "Make"), (MODEL, "Model")):
        value = _text(exif.get(tag))
        prefix, sep, rest = value.partition(":")
        if sep and prefix.strip().lower() in ("prompt", "workflow"):
            label = classify_parameters(rest)
            if label:
                found.append(f"{name} holds a {label} (ComfyUI's '{prefix}:' EXIF field)")
    software = _text(exif.get(SOFTWARE))
    gen = generator_name(software) if software else None
    if found:
        extra = f"; Software '{clean(software, 60)}'" if gen else ""
        return [
            Evidence(
                kind="exif",
                signal="ai_generated",
                strength="strong",
                detail="Generator parameters embedded in EXIF: "
                + "; ".join(found)
                + extra
                + ". Stripped by any re-save that drops EXIF.",
            )
        ]
    if gen:
        return [
            Evidence(
                kind="exif",
                signal="ai_generated",
                strength="moderate",
                detail=f"EXIF Software '{clean(software, 60)}' names an image generator "
                "(easily edited or stripped).",
            )
        ]
    return []


def _camera_evidence(exif: Image.Exif) -> list[Evidence]:
    make, model = _text(exif.get(MAKE)), _text(exif.get(MODEL))
    if make.lower().startswith(("prompt:", "workflow:")):
        make = ""
    if model.lower().startswith(("prompt:", "workflow:")):
        model = ""
    if not (make or model):
        return []
    try:
        sub = exif.get_ifd(EXIF_IFD)
    except Exception:
        sub = {}
    shot: list[str] = []
    if sub.get(EXPOSURE_TIME) is not None:
        shot.append(f"exposure {_num(sub[EXPOSURE_TIME])} s")
    if sub.get(F_NUMBER) is not None:
        shot.append(f"f/{_num(sub[F_NUMBER])}")
    if sub.get(ISO) is not None:
        iso = sub[ISO]
        shot.append(f"ISO {iso[0] if isinstance(iso, tuple) and iso else iso}")
    if not shot:
        return []
    camera = clean(" ".join(dict.fromkeys(x for x in (make, model) if x)), 60)
    return [
        Evidence(
            kind="exif",
            signal="real",
            strength="weak",
            detail=f"Camera EXIF: {camera}, {', '.join(shot)}. Anyone can write EXIF, "
            "so this only informs.",
        )
    ]


def _num(v: Any) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError, ZeroDivisionError):
        return clean(str(v), 20)
    if 0 < f < 1:
        return f"1/{round(1 / f)}"
    return f"{f:g}"


# --- watermark --------------------------------------------------------------------------------
def _watermark_evidence(
    image: Image.Image | None, rgb: np.ndarray | None, exif: Image.Exif | None
) -> list[Evidence]:
    stored = None
    if rgb is not None:
        arr = np.asarray(rgb)
        if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
            return []
        orientation = 1
        if exif is not None:
            try:
                orientation = int(exif.get(ORIENTATION, 1) or 1)
            except (TypeError, ValueError):
                orientation = 1
        stored = _watermark.to_stored_orientation(arr, orientation)
        if image is not None and stored.shape[:2] != (image.height, image.width):
            stored = arr if arr.shape[:2] == (image.height, image.width) else None
        if stored is None:
            return []
        h, w = stored.shape[:2]
    elif image is not None and image.width * image.height <= MAX_DECODE_PIXELS:
        w, h = image.size
    else:
        return []
    box = _watermark.region(h, w)
    if box is None:
        return []
    y0, y1, x0, x1 = box
    if stored is not None:
        region = stored[y0:y1, x0:x1]
    else:
        assert image is not None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image.seek(0)
            crop = image.crop((x0, y0, x1, y1))
            region = np.asarray(crop if crop.mode == "RGB" else crop.convert("RGB"))
    out = []
    for m in _watermark.detect(region, (h, w), (y0, x0)):
        out.append(
            Evidence(
                kind="watermark",
                signal="ai_generated",
                strength="strong",
                detail=f"Invisible watermark {m.name} (invisible-watermark dwtDct) found: "
                f"{m.agree}/{m.total} bits agree (match needs >= {m.needed}), channel order "
                f"{m.channel_order}. Embedded by the generator's reference code; fragile: "
                "resizing, cropping or JPEG re-compression remove it, so its absence "
                "means nothing.",
            )
        )
    return out
