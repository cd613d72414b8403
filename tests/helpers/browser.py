"""Steps the browser tests share: signing in through the login form, and catching dialogs
(a payload that ran would show one)."""

from __future__ import annotations

from playwright.sync_api import Dialog, Page, expect

from tests.helpers.accounts import PASSWORD

# Long enough for a would-be onerror on a 404 image to fire after load.
DIALOG_WAIT_MS = 400


def sign_in(page: Page, user: str = "a-viewer") -> None:
    page.goto("/login")
    page.get_by_label("User").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".who")).to_have_text(user)


def catch_dialogs(page: Page) -> list[str]:
    """The messages of the dialogs the page opens from now on (each dismissed)."""
    seen: list[str] = []

    def on_dialog(d: Dialog) -> None:
        seen.append(d.message)
        d.dismiss()

    page.on("dialog", on_dialog)
    return seen
