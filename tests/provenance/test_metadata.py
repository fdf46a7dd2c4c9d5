"""Generator parameters, XMP DigitalSourceType and camera EXIF, and the verdicts they give."""

from __future__ import annotations

import io
import json
import zlib

import pytest
from PIL import Image, PngImagePlugin

from aidetect.provenance import analyse

from .support import (
    A1111,
    AI_DECIDES,
    MODERATE_AI,
    PIXEL_ONLY,
    camera_exif,
    encode,
    insert_before_iend,
    png_chunk,
    png_with_text,
    small,
    triples,
    verdicts,
    xmp_packet,
)

COMFY_PROMPT = json.dumps(
    {
        "3": {"class_type": "KSampler", "inputs": {"seed": 42, "steps": 20, "cfg": 8.0}},
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd_xl_base_1.0"}},
    }
)
COMFY_WORKFLOW = json.dumps(
    {
        "last_node_id": 9,
        "nodes": [{"id": 3, "type": "KSampler"}],
        "links": [[1, 4, 0, 3, 0, "MODEL"]],
    }
)
INVOKE = json.dumps(
    {
        "generation_mode": "txt2img",
        "positive_prompt": "a cat",
        "seed": 1,
        "steps": 30,
        "model": {"name": "sdxl"},
        "app_version": "3.4.0",
    }
)
NOVELAI_COMMENT = json.dumps(
    {"prompt": "1girl", "steps": 28, "sampler": "k_euler", "seed": 3, "scale": 5.0, "uc": "lowres"}
)
FOOOCUS = json.dumps(
    {
        "prompt": "a cat",
        "negative_prompt": "",
        "full_prompt": ["a cat"],
        "performance": "Speed",
        "steps": 30,
        "sampler": "dpmpp_2m_sde_gpu",
        "seed": "12",
        "base_model": "juggernautXL",
        "version": "Fooocus v2.1.865",
    }
)


# --- PNG text chunks ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("chunks", "needle"),
    [
        ({"parameters": A1111}, "Automatic1111"),
        ({"prompt": COMFY_PROMPT, "workflow": COMFY_WORKFLOW}, "ComfyUI workflow"),
        ({"invokeai_metadata": INVOKE}, "InvokeAI"),
        (
            {"sd-metadata": json.dumps({"model": "stable diffusion", "image": {"seed": 1}})},
            "InvokeAI",
        ),
        (
            {"Software": "NovelAI", "Comment": NOVELAI_COMMENT, "Source": "Stable Diffusion XL"},
            "NovelAI",
        ),
        ({"parameters": FOOOCUS, "fooocus_scheme": "fooocus"}, "Fooocus"),
    ],
    ids=["a1111", "comfyui", "invokeai", "invokeai-legacy", "novelai", "fooocus"],
)
def test_png_generator_chunks_are_strong_ai(chunks, needle):
    ev = analyse(png_with_text(chunks))
    assert triples(ev) == [("png_text", "ai_generated", "strong")]
    assert needle in ev[0].detail
    assert verdicts(ev) == AI_DECIDES


def test_compressed_itxt_and_text_after_idat_are_read():
    ev = analyse(png_with_text({"parameters": A1111}, itxt_zip=True))
    assert triples(ev) == [("png_text", "ai_generated", "strong")]
    # A text chunk after the pixel data (Pillow's .info does not have it before load()).
    png = encode(small(), "PNG")
    late = png_chunk(b"zTXt", b"parameters\x00\x00" + zlib.compress(A1111.encode()))
    ev = analyse(insert_before_iend(png, late))
    assert triples(ev) == [("png_text", "ai_generated", "strong")]


def test_novelai_software_alone_is_moderate():
    ev = analyse(png_with_text({"Software": "NovelAI"}))
    assert triples(ev) == [("png_text", "ai_generated", "moderate")]
    assert verdicts(ev) == MODERATE_AI


def test_plain_prompt_chunk_and_partial_parameters_are_not_evidence():
    ev = analyse(png_with_text({"prompt": "a red apple", "parameters": "Steps: 20"}))
    assert ev == []
    assert verdicts(ev) == PIXEL_ONLY


# --- EXIF ---------------------------------------------------------------------------------------
def a1111_user_comment() -> Image.Exif:
    exif = Image.Exif()
    # What A1111 writes for JPEG/WebP (piexif UserComment.dump(..., encoding="unicode")).
    exif.get_ifd(0x8769)[0x9286] = b"UNICODE\x00" + A1111.encode("utf-16-be")
    return exif


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_a1111_exif_user_comment_is_strong_ai(fmt):
    data = encode(small(), fmt, exif=a1111_user_comment())
    ev = analyse(data, Image.open(io.BytesIO(data)))
    assert triples(ev) == [("exif", "ai_generated", "strong")]
    assert "UserComment" in ev[0].detail
    assert verdicts(ev) == AI_DECIDES


def test_little_endian_and_ascii_user_comments():
    for raw in (b"UNICODE\x00" + A1111.encode("utf-16-le"), b"ASCII\x00\x00\x00" + A1111.encode()):
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9286] = raw
        assert triples(analyse(encode(small(), "JPEG", exif=exif))) == [
            ("exif", "ai_generated", "strong")
        ]


def test_comfyui_webp_exif_make_model():
    exif = Image.Exif()
    exif[0x010F] = "workflow:" + COMFY_WORKFLOW
    exif[0x0110] = "prompt:" + COMFY_PROMPT
    ev = analyse(encode(small(), "WEBP", exif=exif))
    assert triples(ev) == [("exif", "ai_generated", "strong")]  # and no "camera" evidence


def test_jpeg_comment_with_parameters():
    ev = analyse(encode(small(), "JPEG", comment=A1111.encode()))
    assert triples(ev) == [("jpeg_comment", "ai_generated", "strong")]


@pytest.mark.parametrize(
    "software", ["Midjourney", "DALL·E 3", "Adobe Firefly", "Imagen 3", "Stable Diffusion XL"]
)
def test_exif_software_naming_a_generator_is_moderate(software):
    exif = Image.Exif()
    exif[0x0131] = software
    ev = analyse(encode(small(), "JPEG", exif=exif))
    assert triples(ev) == [("exif", "ai_generated", "moderate")]
    assert verdicts(ev) == MODERATE_AI


def test_camera_exif_only_is_weak_real():
    data = encode(small(), "JPEG", exif=camera_exif())
    ev = analyse(data, Image.open(io.BytesIO(data)))
    assert triples(ev) == [("exif", "real", "weak")]
    assert "Canon EOS R6" in ev[0].detail and "1/250" in ev[0].detail
    assert verdicts(ev) == PIXEL_ONLY


def test_no_metadata_gives_no_evidence():
    for fmt in ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF"):
        ev = analyse(encode(small(), fmt))
        assert ev == [], fmt
        assert verdicts(ev) == PIXEL_ONLY


def test_generator_names_in_unrelated_fields_are_not_evidence():
    exif = camera_exif(
        **{
            "0x010e": "a photo of my stable diffusion poster",
            "0x013b": "Midjourney fan",
            "0x8298": "DALL-E enjoyers",
        }
    )
    ev = analyse(encode(small(), "JPEG", exif=exif))
    assert triples(ev) == [("exif", "real", "weak")]
    info = PngImagePlugin.PngInfo()
    for k, v in {
        "Description": "made with DALL-E 3",
        "Title": "Midjourney v6 test",
        "Author": "stable diffusion fan",
        "Comment": "Steps: a poem",
    }.items():
        info.add_text(k, v)
    ev = analyse(encode(small(), "PNG", pnginfo=info))
    assert ev == []
    xmp = xmp_packet(
        extra="<dc:description>my Midjourney poster, trainedAlgorithmicMedia</dc:description>"
    )
    assert analyse(encode(small(), "JPEG", xmp=xmp)) == []


# --- XMP DigitalSourceType ------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
@pytest.mark.parametrize(
    ("term", "attribute", "expected", "verdict"),
    [
        ("trainedAlgorithmicMedia", False, ("xmp", "ai_generated", "strong"), AI_DECIDES),
        (
            "compositeWithTrainedAlgorithmicMedia",
            True,
            ("xmp", "ai_generated", "strong"),
            AI_DECIDES,
        ),
        ("algorithmicMedia", False, ("xmp", "ai_generated", "moderate"), MODERATE_AI),
        ("digitalCapture", True, ("xmp", "real", "weak"), PIXEL_ONLY),
        ("digitalArt", False, ("xmp", "neutral", "weak"), PIXEL_ONLY),
    ],
)
def test_xmp_digital_source_type(fmt, term, attribute, expected, verdict):
    data = encode(small(), fmt, xmp=xmp_packet(term, attribute=attribute))
    ev = analyse(data, Image.open(io.BytesIO(data)))
    assert triples(ev) == [expected]
    assert term in ev[0].detail
    if term.startswith("composite"):
        assert "composite" in ev[0].detail
    assert verdicts(ev) == verdict


def test_xmp_rdf_resource_form_and_creator_tool():
    packet = xmp_packet(extra="").replace(
        b"<Iptc4xmpExt:DigitalSourceType></Iptc4xmpExt:DigitalSourceType>",
        b'<Iptc4xmpExt:DigitalSourceType rdf:resource="http://cv.iptc.org/newscodes/'
        b'digitalsourcetype/trainedAlgorithmicMedia"/>',
    )
    assert triples(analyse(encode(small(), "JPEG", xmp=packet))) == [
        ("xmp", "ai_generated", "strong")
    ]
    tool = xmp_packet(extra="<xmp:CreatorTool>Adobe Firefly</xmp:CreatorTool>")
    assert triples(analyse(encode(small(), "PNG", xmp=tool))) == [
        ("xmp", "ai_generated", "moderate")
    ]


def test_xmp_with_dtd_or_broken_xml_is_a_neutral_note():
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><x>&b;</x>'
    )
    for packet in (laughs, xmp_packet("trainedAlgorithmicMedia")[:-40]):
        ev = analyse(encode(small(), "JPEG", xmp=packet))
        assert triples(ev) == [("xmp", "neutral", "weak")]
        assert verdicts(ev) == PIXEL_ONLY


def test_xmp_ai_claim_with_camera_exif():
    data = encode(small(), "JPEG", exif=camera_exif(), xmp=xmp_packet("trainedAlgorithmicMedia"))
    ev = analyse(data)
    assert triples(ev) == [("xmp", "ai_generated", "strong"), ("exif", "real", "weak")]
    assert verdicts(ev) == AI_DECIDES
