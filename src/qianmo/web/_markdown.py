"""Markdown from users (campaign guidelines) and from data (a release's dataset card, whose
tables name sources and organisations) as safe HTML: raw HTML is escaped, not passed on.

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
    # pipe tables on: a dataset card is mostly tables, and guidelines may use them too
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False})
    return parser.enable("table").disable("image")


def render_markdown(text: str) -> Markup:
    """Safe HTML for a template (`{{ text|markdown }}`), tables included."""
    return Markup(_parser().render(text or ""))  # markdown-it escaped all input


def split_front_matter(text: str) -> tuple[str, str]:
    """A card's YAML front matter (between the leading `---` lines) and its markdown body."""
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        if end != -1:
            return text[4:end], text[end + 5 :]
    return "", text
