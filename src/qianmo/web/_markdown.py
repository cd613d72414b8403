"""Markdown from users (campaign guidelines) as safe HTML: raw HTML is escaped, not passed on.

markdown-it-py with `html` off escapes every tag in the source; its link check refuses
`javascript:`, `vbscript:`, `file:` and non-image `data:` URLs. Images are turned off too:
guidelines must not make the browser fetch anything (the CSP would refuse other origins).
"""

from __future__ import annotations

from functools import lru_cache

from markdown_it import MarkdownIt
from markupsafe import Markup


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).disable("image")


def render_markdown(text: str) -> Markup:
    """Safe HTML for a template (`{{ text|markdown }}`)."""
    return Markup(_parser().render(text or ""))  # markdown-it escaped all input
