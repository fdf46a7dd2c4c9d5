"""Generator metadata: parameters that image generators embed, and generator names.

Only fields that generators themselves write are read: PNG text chunks under
the keys the tools use, EXIF UserComment, a JPEG COM segment, EXIF Software and
ComfyUI's ``prompt:``/``workflow:`` EXIF Make/Model values. Free-text fields that
people write (ImageDescription, Artist, Title, Description, Author, Copyright)
are never searched, so "a photo of my stable diffusion poster" is not evidence.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_JSON_CHARS = 1 << 20  # json.loads is linear, but keep it bounded
EXCERPT = 80

A1111_MARKERS = ("Steps:", "Sampler:", "Seed:", "CFG scale:", "Model hash:", "Schedule type:")
PARAM_KEYS = frozenset(
    {
        "steps",
        "sampler",
        "sampler_name",
        "seed",
        "cfg_scale",
        "cfg",
        "scale",
        "scheduler",
        "denoise",
        "guidance_scale",
        "noise_schedule",
        "performance",
        "base_model",
        "model",
    }
)
PROMPT_KEYS = frozenset(
    {
        "prompt",
        "positive_prompt",
        "full_prompt",
        "negative_prompt",
        "uc",
        "positive",
        "negative",
        "full_negative_prompt",
    }
)

# Names of image generators and generator front-ends, matched as whole words in a
# Software/CreatorTool field only.
GENERATOR_NAMES = re.compile(
    r"\b(midjourney|dall[\s\-·?._]?e(?:\s*[23])?|stable[\s\-_]?diffusion|sdxl|novel\s?ai|"
    r"(?:adobe\s+)?firefly|imagen|gemini|ideogram|leonardo(?:\.ai)?|nightcafe|dreamstudio|"
    r"craiyon|automatic1111|stable-diffusion-webui|comfyui|invokeai|fooocus|flux(?:\.1)?|"
    r"kandinsky|bing image creator|designer image creator|chatgpt|gpt-image-\d|gpt-4o|openai|"
    r"runway(?:ml)?|playground\s?(?:ai|v\d)|krea|stability\s?ai|black forest labs|"
    r"dreamshaper|recraft|grok|sora|meta ai|imagine with meta|tensor\.art|seaart)\b",
    re.IGNORECASE,
)


def clean(text: str, limit: int = EXCERPT) -> str:
    """A short, printable excerpt for a detail message."""
    text = "".join(ch if ch.isprintable() else " " for ch in text[: limit * 2])
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def generator_name(value: str) -> str | None:
    m = GENERATOR_NAMES.search(value[:512])
    return m.group(0) if m else None


def load_json(text: str) -> Any:
    s = text.strip()
    if not s or s[0] not in "{[" or len(s) > MAX_JSON_CHARS:
        return None
    try:
        return json.loads(s)
    except (ValueError, RecursionError):
        return None


def _classify_dict(d: dict, depth: int = 0) -> str | None:
    """Name the tool whose generation record this JSON object is, or None."""
    keys = {str(k).lower() for k in d}
    values = list(d.values())[:2000]
    if values and sum(isinstance(v, dict) and "class_type" in v for v in values) >= 1:
        return "ComfyUI prompt graph"
    if isinstance(d.get("nodes"), list) and ("links" in d or "last_node_id" in d):
        return "ComfyUI workflow"
    version = str(d.get("version", ""))
    if "fooocus" in version.lower() or ("full_prompt" in keys and "performance" in keys):
        return "Fooocus parameters"
    if "generation_mode" in keys or ("app_version" in keys and "seed" in keys):
        return "InvokeAI metadata"
    if len(keys & PARAM_KEYS) >= 2 and keys & PROMPT_KEYS:
        return "generation parameters"
    if depth == 0:  # wrappers such as SwarmUI's {"sui_image_params": {...}}
        for v in values[:8]:
            if isinstance(v, dict):
                inner = _classify_dict(v, depth + 1)
                if inner:
                    return inner
    return None


def classify_parameters(text: str) -> str | None:
    """Name the generation record in a text value (A1111 text or a tool's JSON)."""
    if not text:
        return None
    head = text[:MAX_JSON_CHARS]
    if sum(m in head for m in A1111_MARKERS) >= 2:
        if "Fooocus" in head:
            return "Fooocus parameters (A1111 scheme)"
        return "Automatic1111-style generation parameters"
    data = load_json(text)
    if isinstance(data, dict):
        return _classify_dict(data)
    return None


def decode_user_comment(raw: Any) -> str:
    """EXIF UserComment: an 8-byte character-code prefix, then the text."""
    if isinstance(raw, str):
        return raw
    if not isinstance(raw, (bytes, bytearray)):
        return ""
    raw = bytes(raw[: 8 + 2 * MAX_JSON_CHARS])
    code, body = raw[:8], raw[8:]
    if code.startswith(b"UNICODE"):
        # piexif/A1111 write UTF-16 big-endian; some tools write little-endian.
        be = body.decode("utf-16-be", "replace")
        le = body.decode("utf-16-le", "replace")
        return be if _asciiness(be) >= _asciiness(le) else le
    if code.startswith(b"JIS"):
        return body.decode("shift_jis", "replace")
    if code.startswith(b"ASCII") or code == b"\x00" * 8:
        return body.decode("utf-8", "replace")
    return raw.decode("utf-8", "replace")  # no prefix at all


def _asciiness(s: str) -> int:
    sample = s[:400]
    return sum(32 <= ord(ch) < 127 for ch in sample)
