"""In Chromium: an annotator labels three items with the keyboard alone (the next item comes
by an htmx swap, no reload); payloads on the labelling page stay inert; a reviewer settles a
disagreement and the record page shows the new version and lineage naming the campaign."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from qianmo.annotate import claim, create_campaign, export_rows, parse_config, parse_spec, submit
from qianmo.store import Database, add_records
from tests.helpers.browser import DIALOG_WAIT_MS, catch_dialogs, sign_in
from tests.helpers.live import CONTROL_PATH, XSS, LiveSite
from tests.helpers.records import make_record

pytestmark = pytest.mark.browser


def _campaign(db: Database, name: str, questions: list[str], texts: list[str], k: int) -> list[str]:
    """Records of their own source (one per text) and a campaign over them."""
    records = [
        make_record("qa", content={"question": t, "answer": f"answer {i}"}, source={"name": name})
        for i, t in enumerate(texts)
    ]
    with db.write() as s:
        ids = add_records(s, records, actor="seed").added
    config = parse_config(filters=[f"source={name}"], overlap=k, gold_rate=0.0)
    create_campaign(db, name, [parse_spec(q) for q in questions], config, actor="seed")
    return ids


def test_three_items_labelled_with_the_keyboard_alone(page: Page, live_site: LiveSite) -> None:
    texts = ["Is port 22 SSH?", "Is CVE-2021-44228 Log4Shell?", XSS]
    _campaign(
        live_site.db, "kbd", ["correct:choice[yes,no,unsure]", "quality:rating[1-5]"], texts, 1
    )
    dialogs = catch_dialogs(page)
    sign_in(page, "a-annotator")
    page.goto("/annotate/kbd/label")
    page.evaluate("window.notReloaded = true")
    seen = []
    for n in range(1, 4):
        task = page.locator("#task")
        expect(page.locator("fieldset.question.current")).to_have_attribute(
            "data-question", "correct"
        )
        assignment = task.get_attribute("data-assignment")
        seen.append(page.locator('pre[data-field="question"]').inner_text())
        page.keyboard.press("1")  # correct = yes, then on to quality
        expect(page.locator("fieldset.question.current")).to_have_attribute(
            "data-question", "quality"
        )
        page.keyboard.press("4")
        page.keyboard.press("Enter")
        expect(task).not_to_have_attribute("data-assignment", assignment or "")
        expect(page.locator('[data-count="mine"]')).to_have_text(str(n))
    expect(page.get_by_role("status")).to_contain_text("Nothing left for you")
    assert page.evaluate("window.notReloaded") is True  # three swaps, no page load
    assert sorted(seen) == sorted(texts)  # the payload was shown as text
    page.wait_for_timeout(DIALOG_WAIT_MS)
    assert dialogs == []
    rows = list(export_rows(live_site.db, "kbd"))
    answers = [(lab["question"], lab["answer"]) for r in rows for lab in r["labels"]]
    assert sorted(answers) == [("correct", "yes")] * 3 + [("quality", 4)] * 3
    assert {r["state"] for r in rows} == {"settled"}


def test_skip_and_discard_keys(page: Page, live_site: LiveSite) -> None:
    _campaign(live_site.db, "keys", ["better:preference"], ["first pair", "second pair"], 1)
    sign_in(page, "a-annotator")
    page.goto("/annotate/keys/label")
    first = page.locator('pre[data-field="question"]').inner_text()
    expect(page.locator("fieldset.question.current")).to_be_visible()
    page.keyboard.press("s")  # skip: the other item now, this one later
    expect(page.locator('pre[data-field="question"]')).not_to_have_text(first)
    page.keyboard.press("d")  # discard the second for good
    expect(page.locator('pre[data-field="question"]')).to_have_text(first)
    page.keyboard.press("t")  # preference: tie
    expect(page.locator('input[name="q.better"][value="tie"]')).to_be_checked()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Nothing left for you")


def test_labelling_page_shows_a_payload_literally(page: Page, live_site: LiveSite) -> None:
    _campaign(live_site.db, "xss", ["correct:choice[yes,no]"], [XSS], 1)
    dialogs = catch_dialogs(page)
    sign_in(page, "a-annotator")
    page.goto("/annotate/xss/label")
    expect(page.locator('pre[data-field="question"]')).to_have_text(XSS)
    page.wait_for_timeout(DIALOG_WAIT_MS)
    assert dialogs == []
    page.goto(CONTROL_PATH)  # the negative control: unescaped, the same payload does fire
    page.wait_for_timeout(DIALOG_WAIT_MS)
    assert dialogs == ["1"]


def test_a_reviewer_settles_a_disagreement(page: Page, live_site: LiveSite) -> None:
    db = live_site.db
    (rid,) = _campaign(
        db, "rev", ["correct:choice[yes,no]", "fix:rewrite[answer]"], ["What is XSS?"], 2
    )
    for who, answers in (
        ("a-annotator", {"correct": "yes", "fix": ""}),
        ("a-maintainer", {"correct": "no", "fix": "Cross-site scripting."}),
    ):
        task = claim(db, "rev", who)
        assert task is not None
        submit(db, task.assignment_id, who, answers)
    sign_in(page, "a-reviewer")
    page.goto("/annotate")
    page.locator('tr[data-campaign="rev"]').get_by_role("link", name="Review").click()
    page.get_by_role("link", name="Review ").first.click()
    expect(page.locator('tr[data-annotator="a-annotator"]').first).to_be_visible()
    expect(page.locator('tr[data-annotator="a-maintainer"]').first).to_be_visible()
    page.locator('input[name="q.correct"][value="yes"]').check()
    page.get_by_label("fix").fill("Cross-site scripting: script injected into a page.")
    page.get_by_role("button", name="Save the correction").click()
    expect(page.get_by_role("status")).to_have_text("Nothing to review.")
    page.goto(f"/records/{rid}")
    versions = page.locator('section[aria-label="versions"] tbody tr')
    expect(versions).to_have_count(2)
    expect(versions.nth(1)).to_contain_text("annotate.writeback")
    expect(page.locator("ol.lineage")).to_contain_text("campaign · rev")
    expect(page.locator("ol.lineage")).to_contain_text("a-reviewer")
    expect(page.locator('pre[data-field="answer"]')).to_have_text(
        "Cross-site scripting: script injected into a page."
    )
    expect(page.locator("dl.meta")).to_contain_text("accepted")
