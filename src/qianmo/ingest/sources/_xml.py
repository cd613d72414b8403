"""XML with defusedxml's policy: no DTD, no entity declarations, no external fetches.

lxml parses (fast, with line numbers) through a parser that never resolves entities or touches
the network; a document that declares a DTD or entities is refused with defusedxml's error
types, so an XML bomb or an external-entity file fails before anything is read from it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from defusedxml import DTDForbidden, EntitiesForbidden
from lxml import etree

from qianmo.ingest.sources._common import SourceError


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
    )


def _refuse_dtd(tree: Any, path: Path) -> None:
    dtd = tree.docinfo.internalDTD
    if dtd is None:
        return
    entities = list(dtd.iterentities())
    err: Exception = (
        EntitiesForbidden(entities[0].name, None, None, None, None, None)
        if entities
        else DTDForbidden(tree.docinfo.root_name, None, None)
    )
    what = f"entity declaration {entities[0].name!r}" if entities else "a DTD"
    raise SourceError(
        f"refused: the document declares {what} (entity expansion and external "
        "fetches are not allowed)",
        file=str(path),
    ) from err


def parse_xml(path: Path) -> Any:
    """The root element of a safe XML file; anything unsafe or malformed is a SourceError."""
    try:
        tree = etree.parse(str(path), _parser())
    except etree.XMLSyntaxError as e:
        line = e.position[0] if e.position else None
        raise SourceError(f"malformed XML: {e.msg}", file=str(path), line=line) from e
    except OSError as e:
        raise SourceError(f"cannot read: {e}", file=str(path)) from e
    _refuse_dtd(tree, path)
    return tree.getroot()


def local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def child(el: Any, name: str) -> Any:
    for c in el:
        if local(c.tag) == name:
            return c
    return None


def children(el: Any, *path: str) -> list[Any]:
    """Elements along a path of local names (namespace-agnostic)."""
    found = [el]
    for name in path:
        found = [c for f in found if f is not None for c in f if local(c.tag) == name]
    return found


def text(el: Any) -> str:
    """All text of an element (XHTML inside descriptions included), whitespace tidied."""
    if el is None:
        return ""
    return " ".join("".join(el.itertext()).split())
