"""Provenance evidence: what the file itself says about where it came from.

``analyse(data, image=None, rgb=None, *, trust_anchors_pem=None, watermark=True)``
reads the original bytes (before any re-encoding) and returns a list of
``aidetect.results.Evidence`` items (``kind``, ``signal``, ``strength``,
``detail``). It never raises on hostile input, and its cost is bounded: the
container walk reads metadata segments only, with caps on segment counts, text
and XMP sizes; C2PA is read only when the container has a manifest box; the
watermark decoder reads a bounded region.

Signals, what they mean, and how easily they are removed
--------------------------------------------------------

How ``aidetect.verdict.decide`` uses them: strong AI evidence decides the verdict;
strong real evidence turns an uncertain pixel verdict into real; moderate AI
evidence turns an uncertain pixel verdict into AI-generated; weak evidence is
shown but never changes the verdict. Every signal below can be removed by
re-saving the image without metadata, taking a screenshot or re-encoding it,
so **the absence of evidence is never evidence of anything**.

- ``c2pa``: C2PA Content Credentials read with ``c2pa-python``: manifest,
  signature validation, signer, and the ``digitalSourceType`` of every action.
  ``trainedAlgorithmicMedia`` in a manifest whose signature validates:
  ai_generated, strong; ``compositeWithTrainedAlgorithmicMedia``: the same, and
  the detail says the image is a composite that includes generative-AI content.
  ``digitalCapture`` in a manifest whose signer chains to a configured trust
  anchor: real, strong; the same claim from a correctly signed but untrusted
  signer: real, moderate (shown, but it does not change the verdict: anyone can
  make a certificate). ``algorithmicMedia``: ai_generated, moderate. A manifest
  that fails validation (pixels changed after signing, bad signature): neutral,
  weak, with the failure codes in the detail; an AI claim inside it:
  ai_generated, moderate; a capture claim inside it counts for nothing. A valid
  manifest with no source type (or another one): neutral, weak. Stripped by any
  re-save that drops metadata; cannot be forged without the signer's key, and
  tampering is detected. Cameras and editors sign too: a manifest alone does
  not mean AI.
- ``xmp``: IPTC ``DigitalSourceType`` in XMP (JPEG, PNG, WebP).
  ``trainedAlgorithmicMedia`` and ``compositeWithTrainedAlgorithmicMedia``:
  ai_generated, strong; ``algorithmicMedia``: ai_generated, moderate;
  ``digitalCapture`` (or a film scan): real, weak; XMP ``CreatorTool`` naming a
  generator: ai_generated, moderate; a packet that is not well-formed XML or
  carries a DTD is not parsed (neutral, weak). Plain text: trivially edited,
  added or removed.
- ``png_text``: generator parameters in PNG ``tEXt``/``zTXt``/``iTXt`` chunks:
  Automatic1111 ``parameters`` (``Steps:``, ``Sampler:``, ``Seed:``, ...),
  ComfyUI ``prompt``/``workflow`` JSON, InvokeAI ``invokeai_metadata`` /
  ``sd-metadata``, NovelAI ``Software``="NovelAI" with a ``Comment`` JSON,
  Fooocus ``parameters`` JSON / ``fooocus_scheme``: ai_generated, strong. A
  ``Software`` chunk naming a generator, alone: ai_generated, moderate. Written
  by the generator; removed by any re-save or metadata stripper, and trivially
  forged.
- ``exif``: the same parameters in EXIF ``UserComment`` (JPEG, WebP) or in
  ComfyUI's ``prompt:``/``workflow:`` Make/Model values: ai_generated, strong;
  EXIF ``Software`` naming a generator (Midjourney, DALL-E, Stable Diffusion,
  NovelAI, Firefly, Imagen, ...): ai_generated, moderate. Camera EXIF (Make or
  Model with exposure time, f-number or ISO): real, weak. Anyone can write,
  copy or strip EXIF.
- ``jpeg_comment``: a JPEG COM segment holding generation parameters:
  ai_generated, strong. Same caveats.
- ``watermark``: invisible-watermark ``dwtDct`` marks, Stable Diffusion's
  ``StableDiffusionV1`` (136 bits) and SDXL/diffusers' 48-bit mark, looked for
  in both channel orders on images with both sides >= 256 px, decoded on a
  centred region of at most 768x768 pixels. A match (at least 85% of the 136
  bits, or 90% of the 48 bits, agree; a chance match is below 1e-9): ai_generated,
  strong. Fragile: resizing, cropping off the 8-pixel grid and JPEG
  re-compression (often already at quality 90) remove it, and many front-ends
  never add it.

Only fields that generators write are read: a generator's name in a free-text
field people write (ImageDescription, Artist, Title, Description) is not
evidence. C2PA trust anchors: ``trust_anchors_pem=`` or the PEM file named by
the ``AIDETECT_C2PA_TRUST_ANCHORS`` environment variable; none by default, so
every signer is "valid but not on the trust list" until anchors are configured.
"""

from aidetect.provenance.analyser import TRUST_ANCHORS_ENV, analyse

__all__ = ["TRUST_ANCHORS_ENV", "analyse"]
