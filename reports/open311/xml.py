"""GeoReport v2 XML: a list is a plural element holding one singular element per item."""

import re
from xml.etree.ElementTree import Element, SubElement, tostring

# The element of each item in a list, by the list's element (as in the GeoReport v2 examples).
ITEM = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "service_requests": "request",
    "notes": "note",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}
# Characters XML 1.0 cannot carry at all (a control character in a description must not break the document).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return NOT_XML.sub("", str(value))


def _fill(node: Element, value) -> None:
    if isinstance(value, dict):
        for name, item in value.items():
            _fill(SubElement(node, name), item)
    elif isinstance(value, list | tuple):
        for item in value:
            _fill(SubElement(node, ITEM[node.tag]), item)
    else:
        node.text = _text(value)


def render(root: str, data) -> bytes:
    """`data` (a list for `services`, `service_requests`, `errors`; a dict otherwise) as a document."""
    node = Element(root)
    _fill(node, data)
    return tostring(node, encoding="utf-8", xml_declaration=True)
