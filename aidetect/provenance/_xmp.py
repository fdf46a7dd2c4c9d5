"""IPTC DigitalSourceType (and CreatorTool) from an XMP packet, parsed safely.

XMP never needs a DTD, so a packet with ``<!DOCTYPE`` or ``<!ENTITY`` is refused
before parsing (no entity expansion, no external entities); packets are capped
in size by the container walk. ``getxmp()`` is not used: it needs ``defusedxml``
and it would parse the packet a second time.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XMP_NS = "http://ns.adobe.com/xap/1.0/"
_DTD = re.compile(rb"<!\s*(doctype|entity)", re.IGNORECASE)


class XmpError(ValueError):
    pass


def _local(name: str) -> tuple[str, str]:
    if name.startswith("{"):
        ns, _, local = name[1:].partition("}")
        return ns, local
    return "", name


def _term(value: str) -> str | None:
    value = value.strip().rstrip("/")
    if not value or len(value) > 300:
        return None
    return value.rsplit("/", 1)[-1] or None


def read_xmp(packet: bytes) -> tuple[list[str], list[str]]:
    """Return (DigitalSourceType terms, CreatorTool values) found in the packet.

    Raises ``XmpError`` when the packet is not well-formed XML or has a DTD.
    """
    start = packet.find(b"<")
    if start < 0:
        raise XmpError("no XML in the XMP packet")
    packet = packet[start:].rstrip(b"\x00 \t\r\n")
    if _DTD.search(packet):
        raise XmpError("XMP packet with a DTD refused")
    try:
        root = ET.fromstring(packet)
    except (ET.ParseError, ValueError) as exc:
        raise XmpError(f"XMP is not well-formed XML ({exc})") from exc

    terms: list[str] = []
    tools: list[str] = []
    for elem in root.iter():
        ns, local = _local(elem.tag)
        if local == "DigitalSourceType" and "iptc" in ns.lower():
            value = elem.get(f"{{{RDF_NS}}}resource") or (elem.text or "")
            t = _term(value)
            if t:
                terms.append(t)
        elif local == "CreatorTool" and ns == XMP_NS and elem.text:
            tools.append(elem.text.strip())
        for attr, value in elem.attrib.items():
            ans, alocal = _local(attr)
            if alocal == "DigitalSourceType" and "iptc" in ans.lower():
                t = _term(value)
                if t:
                    terms.append(t)
            elif alocal == "CreatorTool" and ans == XMP_NS:
                tools.append(value.strip())
    return list(dict.fromkeys(terms)), list(dict.fromkeys(tools))
