"""In a real browser: browse to a release and see its card, splits and decision summary; a
hostile source name in the card stays inert."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from qianmo.circulate import Audience, ReleaseRequest, create_release
from qianmo.store import add_records
from tests.helpers.browser import DIALOG_WAIT_MS, catch_dialogs, sign_in
from tests.helpers.circulate import accepted
from tests.helpers.live import XSS, LiveSite

pytestmark = pytest.mark.browser


def test_browse_to_a_release_and_see_its_card(page: Page, live_site: LiveSite) -> None:
    source = {"name": XSS, "org": "org-a"}
    records = [accepted(source=source), accepted("qa", source=source), accepted(source=source)]
    with live_site.db.write() as s:
        add_records(s, records, actor="seed")
    request = ReleaseRequest(
        name="browser-rel",
        audience=Audience.parse(["members"]),
        use="research",
        filters=("org=org-a", "status=accepted"),
    )
    create_release(live_site.db, request, "1.0.0", actor="a-admin")
    dialogs = catch_dialogs(page)
    sign_in(page, "a-viewer")
    page.get_by_role("link", name="Releases").click()
    page.get_by_role("link", name="browser-rel@1.0.0").click()
    expect(page.get_by_role("heading", name="browser-rel@1.0.0")).to_be_visible()
    expect(page.locator("pre.card-meta")).to_contain_text("license: cc-by-4.0")
    card = page.locator("article.card")
    expect(card).to_contain_text("browser-rel")
    # the card's markdown is rendered: its tables are tables, the hostile source name text
    expect(card.locator("table").first).to_be_visible()
    expect(card.locator("td", has_text=XSS).first).to_be_visible()
    expect(page.locator("table.splits tbody tr")).not_to_have_count(0)
    expect(page.get_by_role("link", name="Dataset card (README.md)")).to_be_visible()
    page.wait_for_timeout(DIALOG_WAIT_MS)
    assert dialogs == []
