"""Markdown to safe HTML: guidelines and dataset cards carry data, and data carries payloads."""

from __future__ import annotations

from qianmo.web._markdown import render_markdown, split_front_matter

HOSTILE = "<img src=x onerror=alert(1)> [x](javascript:alert(2)) ![i](http://example.org/p.png)"


def test_card_tables_render_and_payloads_stay_text() -> None:
    card = f"---\nlicense: cc-by-4.0\n---\n# Card\n\n| source | n |\n|---|---|\n| {HOSTILE} | 3 |\n"
    front, body = split_front_matter(card)
    assert front == "license: cc-by-4.0"
    html = str(render_markdown(body))
    assert "<table>" in html and "<td>3</td>" in html
    assert "<img" not in html and 'href="javascript:' not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_text_without_front_matter_is_all_body() -> None:
    assert split_front_matter("# Card\n---\nx") == ("", "# Card\n---\nx")
    assert split_front_matter("---\nunclosed") == ("", "---\nunclosed")
