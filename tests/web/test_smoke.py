"""The app starts, refuses strangers, and lets a person sign in and out."""

from tests.web.conftest import signed_in


def test_a_stranger_is_sent_to_login_and_staff_can_sign_in_and_out(page, server):
    page.goto(server.url + "/")
    assert page.url.startswith(server.url + "/login")
    signed_in(page, server)
    assert page.get_by_role("heading", name="Queue").is_visible()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(server.url + "/login")
    page.goto(server.url + "/")
    assert page.url.startswith(server.url + "/login")


def test_a_wrong_password_is_refused_plainly(page, server):
    page.goto(server.url + "/login")
    page.get_by_label("Email").fill("alice@landlord.org")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text().startswith("That email and password do not match")
