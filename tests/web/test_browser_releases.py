"""In a real browser: browse to a release and see its card, splits and decision summary; a
hostile source name in the card stays inert."""

from __future__ import annotations

import pytest
from playwright.sync_api import Dialog, Page, expect

from qianmo.circulate import Audience, ReleaseRequest, create_release
from qianmo.store import add_records
from tests.helpers.accounts import PASSWORD
from tests.helpers.circulate import accepted
from tests.helpers.live import XSS, LiveSite

pytestmark = pytest.mark.browser
DIALOG_WAIT_MS = 400  # long enough for a would-be onerror on a 404 image to fire


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
    dialogs: list[str] = []

    def on_dialog(d: Dialog) -> None:
        dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", on_dialog)
    page.goto("/login")
    page.get_by_label("User").fill("a-viewer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Releases").click()
    page.get_by_role("link", name="browser-rel@1.0.0").click()
    expect(page.get_by_role("heading", name="browser-rel@1.0.0")).to_be_visible()
    card = page.locator("pre.card")
    expect(card).to_contain_text("license: cc-by-4.0")
    expect(card).to_contain_text("browser-rel")
    expect(page.locator("table.splits tbody tr")).not_to_have_count(0)
    expect(page.get_by_role("link", name="Dataset card (README.md)")).to_be_visible()
    page.wait_for_timeout(DIALOG_WAIT_MS)
    assert dialogs == []
