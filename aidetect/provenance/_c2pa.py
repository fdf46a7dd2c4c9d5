"""C2PA Content Credentials through ``c2pa-python`` (the Rust c2pa-rs reader).

Only called when the container walk found a place where a manifest lives (JPEG
APP11 JUMBF, PNG ``caBX``, WebP ``C2PA``; for other formats a ``c2pa`` label in
the bytes), so ordinary photos never reach it. Remote manifests and OCSP are not
fetched (no network from a detector).

Trust: c2pa reports ``validation_state`` ``Invalid`` (a hash, signature or
structure check failed), ``Valid`` (intact and correctly signed, but the signing
certificate does not chain to a configured trust anchor) or ``Trusted``. No
trust anchors are configured by default; pass PEM anchors (for example the
Content Credentials trust list) with ``trust_anchors_pem`` or point
``AIDETECT_C2PA_TRUST_ANCHORS`` at a PEM file.
"""

from __future__ import annotations

import io
import json
import logging
import threading
from dataclasses import dataclass
from typing import Any

from aidetect.results import Evidence

from ._generators import clean

log = logging.getLogger(__name__)

AI_TERMS = {"trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia"}
CAPTURE_TERMS = {"digitalCapture", "negativeFilm", "positiveFilm"}
MAX_MANIFESTS = 64
MAX_ACTIONS = 512
_MIME = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "TIFF": "image/tiff",
    "GIF": "image/gif",
    "AVIF": "image/avif",
    "HEIF": "image/heif",
}

_lock = threading.Lock()
_contexts: dict[str | None, Any] = {}


def _context(trust_anchors_pem: str | None) -> Any:
    """One c2pa Context per trust configuration, built once (cheap to reuse)."""
    import c2pa

    with _lock:
        ctx = _contexts.get(trust_anchors_pem)
        if ctx is None:
            settings: dict[str, Any] = {
                "verify": {
                    "remote_manifest_fetch": False,
                    "ocsp_fetch": False,
                    "verify_trust": True,
                },
            }
            if trust_anchors_pem:
                settings["trust"] = {"trust_anchors": trust_anchors_pem}
            ctx = c2pa.Context(settings=c2pa.Settings.from_dict(settings))
            if len(_contexts) > 8:
                _contexts.clear()
            _contexts[trust_anchors_pem] = ctx
        return ctx


@dataclass
class SourceClaim:
    term: str
    action: str
    agent: str
    manifest: str  # "active" or "ingredient"


def read(data: bytes, fmt: str | None, trust_anchors_pem: str | None) -> list[Evidence]:
    try:
        import c2pa
    except ImportError:  # pragma: no cover - c2pa-python is a dependency
        return [
            Evidence(
                kind="c2pa",
                signal="neutral",
                strength="weak",
                detail="C2PA data present but c2pa-python is not installed.",
            )
        ]
    try:
        ctx = _context(trust_anchors_pem)
        with c2pa.Reader(_MIME.get(fmt or ""), io.BytesIO(data), None, ctx) as reader:
            store = json.loads(reader.json())
    except c2pa.C2paError.ManifestNotFound:
        return []
    except Exception as exc:  # c2pa raises its own errors; hostile input must not escape
        log.debug("c2pa read failed", exc_info=True)
        return [
            Evidence(
                kind="c2pa",
                signal="neutral",
                strength="weak",
                detail=f"C2PA data present but unreadable: {clean(str(exc), 160)}",
            )
        ]
    if not isinstance(store, dict):
        return []
    return grade(store)


def _agent(action: dict, manifest: dict) -> str:
    agent = action.get("softwareAgent")
    if isinstance(agent, dict):
        agent = agent.get("name")
    if not agent:
        infos = manifest.get("claim_generator_info") or []
        if isinstance(infos, list) and infos and isinstance(infos[0], dict):
            agent = infos[0].get("name")
        agent = agent or manifest.get("claim_generator")
    return clean(str(agent), 60) if agent else ""


def _claims(store: dict) -> list[SourceClaim]:
    manifests = store.get("manifests") or {}
    if not isinstance(manifests, dict):
        return []
    active = store.get("active_manifest")
    order = [active] if active in manifests else []
    order += [k for k in list(manifests)[:MAX_MANIFESTS] if k != active]
    claims: list[SourceClaim] = []
    for label in order:
        m = manifests.get(label)
        if not isinstance(m, dict):
            continue
        for assertion in (m.get("assertions") or [])[:MAX_ACTIONS]:
            if not isinstance(assertion, dict):
                continue
            if not str(assertion.get("label", "")).startswith("c2pa.actions"):
                continue
            data = assertion.get("data") or {}
            actions = data.get("actions") if isinstance(data, dict) else None
            for action in (actions or [])[:MAX_ACTIONS]:
                if not isinstance(action, dict):
                    continue
                dst = action.get("digitalSourceType")
                params = action.get("parameters")
                if not dst and isinstance(params, dict):
                    dst = params.get("digitalSourceType")
                if not isinstance(dst, str) or not dst.strip():
                    continue
                term = dst.strip().rstrip("/").rsplit("/", 1)[-1]
                claims.append(
                    SourceClaim(
                        term=term,
                        action=str(action.get("action", "?")),
                        agent=_agent(action, m),
                        manifest="active" if label == active else "ingredient",
                    )
                )
    return claims


def _failures(store: dict) -> list[str]:
    codes: list[str] = []
    results = store.get("validation_results")
    if isinstance(results, dict):
        active = results.get("activeManifest")
        if isinstance(active, dict):
            codes += [f.get("code", "") for f in active.get("failure") or [] if isinstance(f, dict)]
    codes += [
        s.get("code", "") for s in store.get("validation_status") or [] if isinstance(s, dict)
    ]
    return [c for c in dict.fromkeys(codes) if c]


def _signer(store: dict) -> str:
    m = (store.get("manifests") or {}).get(store.get("active_manifest"))
    info = m.get("signature_info") if isinstance(m, dict) else None
    if not isinstance(info, dict):
        return "unknown signer"
    cn, issuer = info.get("common_name"), info.get("issuer")
    who = clean(str(cn or issuer or "unknown signer"), 60)
    if issuer and cn and issuer != cn:
        who += f" (issuer {clean(str(issuer), 60)})"
    return who


def grade(store: dict) -> list[Evidence]:
    """Turn a c2pa manifest store (the Reader's JSON) into graded evidence."""
    state = str(store.get("validation_state") or "")
    failures = _failures(store)
    signer = _signer(store)
    if state == "Trusted":
        status = f"signature valid, signer {signer} trusted"
    elif state == "Valid":
        status = f"signature valid, signer {signer} not on the trust list"
    else:
        hard = [c for c in failures if c != "signingCredential.untrusted"] or failures
        status = f"validation FAILED ({', '.join(hard[:4]) or state or 'unknown state'})"
    valid = state in ("Trusted", "Valid")
    claims = _claims(store)
    ai = [c for c in claims if c.term in AI_TERMS]
    capture = [c for c in claims if c.term in CAPTURE_TERMS]
    algorithmic = [c for c in claims if c.term == "algorithmicMedia"]
    out: list[Evidence] = []

    if not valid:
        out.append(
            Evidence(
                kind="c2pa",
                signal="neutral",
                strength="weak",
                detail=f"C2PA manifest present, signed by {signer}, but {status}; "
                "its claims cannot be relied on.",
            )
        )

    def describe(c: SourceClaim) -> str:
        where = "" if c.manifest == "active" else " in an ingredient's manifest"
        agent = f" by '{c.agent}'" if c.agent else ""
        return f"action {c.action}{agent}{where} declares digitalSourceType {c.term}"

    if ai:
        c = ai[0]
        composite = c.term.startswith("composite")
        what = (
            "a composite that includes generative-AI content"
            if composite
            else "generated by a trained AI model"
        )
        if valid:
            out.append(
                Evidence(
                    kind="c2pa",
                    signal="ai_generated",
                    strength="strong",
                    detail=f"C2PA Content Credentials ({status}): {describe(c)}: {what}.",
                )
            )
        else:
            out.append(
                Evidence(
                    kind="c2pa",
                    signal="ai_generated",
                    strength="moderate",
                    detail=f"C2PA manifest that failed validation claims {what} ({describe(c)}).",
                )
            )
        return out
    if algorithmic:
        c = algorithmic[0]
        out.append(
            Evidence(
                kind="c2pa",
                signal="ai_generated",
                strength="moderate" if valid else "weak",
                detail=f"C2PA manifest ({status}): {describe(c)} "
                "(algorithmic media, not necessarily a trained model).",
            )
        )
        return out
    if capture and valid:
        c = capture[0]
        trusted = state == "Trusted"
        out.append(
            Evidence(
                kind="c2pa",
                signal="real",
                strength="strong" if trusted else "moderate",
                detail=f"C2PA Content Credentials ({status}): {describe(c)} "
                "(camera capture)" + ("." if trusted else "; signer not trusted, so not decisive."),
            )
        )
        return out
    if valid:
        terms = sorted({c.term for c in claims})
        what = (
            f"digitalSourceType {', '.join(terms)}"
            if terms
            else "no digitalSourceType (a manifest alone does not say how the image was made)"
        )
        out.append(
            Evidence(
                kind="c2pa",
                signal="neutral",
                strength="weak",
                detail=f"C2PA Content Credentials ({status}) with {what}.",
            )
        )
    return out
