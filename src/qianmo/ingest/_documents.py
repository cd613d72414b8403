"""Readers for documents: plain text, Markdown and HTML, one `document` record per file, or one
per section with `--split headings` (sections start at level-1 and level-2 headings).

HTML is reduced to text safely: the parser resolves no entities and fetches nothing, and the
content of script, style and other non-text elements is dropped, never kept as text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from qianmo.errors import QianmoError
from qianmo.ingest._registry import ReadOptions, Row, reader

SPLIT_LEVEL = 2
_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_DROP = ("script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "math")
_BLOCK = {
    "p",
    "div",
    "section",
    "article",
    "li",
    "tr",
    "br",
    "pre",
    "blockquote",
    "table",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "header",
    "footer",
    "main",
    "nav",
    "aside",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "title",
}
_HEADING = {f"h{i}": i for i in range(1, 7)}


@dataclass
class Section:
    title: str | None
    line: int
    lines: list[str] = field(default_factory=list)

    def text(self) -> str:
        return "\n".join(self.lines).strip()


def _document(title: str | None, text: str) -> dict[str, Any]:
    content: dict[str, Any] = {"text": text}
    if title:
        content["title"] = title
    return {"kind": "document", "content": content}


def _rows(
    path: Path, title: str | None, text: str, sections: list[Section], split: bool
) -> Iterator[Row]:
    if not split:
        yield Row(str(path), _document(title or path.stem, text.strip()))
        return
    for s in sections:
        body = s.text()
        if body:  # a heading followed directly by a sub-heading is not a section of its own
            yield Row(f"{path}:{s.line}", _document(s.title or path.stem, body))


def _split_on(options: ReadOptions) -> bool:
    if options.split not in (None, "headings"):
        raise QianmoError(f"unknown split {options.split!r}: use headings", field="--split")
    return options.split == "headings"


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise QianmoError(f"not UTF-8 text (byte {e.start})", file=str(path)) from e


@reader("text", extensions=("txt", "text"), description="plain text, one document per file")
def read_text(path: Path, options: ReadOptions) -> Iterator[Row]:
    _split_on(options)
    yield Row(str(path), _document(path.stem, _read_text(path).strip()))


def markdown_sections(text: str) -> tuple[str | None, list[Section]]:
    """The first heading (the title) and the sections, ignoring `#` lines inside code fences."""
    sections = [Section(None, 1)]
    title, fenced = None, False
    for n, line in enumerate(text.splitlines(), start=1):
        if _FENCE.match(line):
            fenced = not fenced
        m = None if fenced else _ATX.match(line)
        if m and title is None:
            title = m.group(2).strip()
        if m and len(m.group(1)) <= SPLIT_LEVEL:
            sections.append(Section(m.group(2).strip(), n))
        else:
            sections[-1].lines.append(line)
    return title, sections


@reader("markdown", extensions=("md", "markdown", "mdx"), description="Markdown documents")
def read_markdown(path: Path, options: ReadOptions) -> Iterator[Row]:
    split = _split_on(options)
    text = _read_text(path)
    title, sections = markdown_sections(text)
    yield from _rows(path, title, text, sections, split)


def _safe_parser() -> etree.HTMLParser:
    return etree.HTMLParser(no_network=True, remove_comments=True, remove_pis=True, recover=True)


def html_sections(data: bytes) -> tuple[str | None, list[Section]]:
    """Text of an HTML page by section: headings start sections; nothing executable is kept."""
    sections = [Section(None, 1)]
    root = etree.fromstring(data, _safe_parser()) if data.strip() else None
    if root is None:
        return None, sections
    title = " ".join((root.findtext(".//title") or "").split()) or None
    for el in list(root.iter(*_DROP, "head", "title")):
        el.clear(keep_tail=True)
    buf: list[str] = []

    def flush() -> None:
        text = re.sub(r"[ \t\r\f\v]+", " ", "".join(buf))
        sections[-1].lines.extend(ln.strip() for ln in text.split("\n") if ln.strip())
        buf.clear()

    for event, el in etree.iterwalk(root, events=("start", "end")):
        tag = el.tag if isinstance(el.tag, str) else ""
        if event == "start" and _is_heading(el):
            flush()
            heading = " ".join("".join(el.itertext()).split())
            sections.append(Section(heading, el.sourceline or 1))
            title = title or heading
        elif event == "start" and not _in_heading(el):
            buf.append(("\n" if tag in _BLOCK else "") + (el.text or ""))
        elif event == "end":
            if not _in_heading(el):
                buf.append("\n" if tag in _BLOCK else "")
            parent = el.getparent()
            if parent is None or not _in_heading(parent):
                buf.append(el.tail or "")
    flush()
    return title, sections


def _is_heading(el: Any) -> bool:
    return isinstance(el.tag, str) and _HEADING.get(el.tag, 99) <= SPLIT_LEVEL


def _in_heading(el: Any) -> bool:
    return _is_heading(el) or any(_is_heading(a) for a in el.iterancestors())


@reader("html", extensions=("html", "htm", "xhtml"), description="HTML pages, reduced to text")
def read_html(path: Path, options: ReadOptions) -> Iterator[Row]:
    split = _split_on(options)
    title, sections = html_sections(path.read_bytes())
    text = "\n\n".join(s.text() for s in sections if s.text())
    if not split:
        # The whole page: headings are part of the text.
        parts = [f"{s.title}\n{s.text()}" if s.title else s.text() for s in sections]
        text = "\n\n".join(p.strip() for p in parts if p.strip())
    yield from _rows(path, title, text, sections, split)
