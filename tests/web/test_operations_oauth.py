"""The operations page warns of an OAuth2 mailbox secret or refresh token running out (tests/test_oauth.py
has the settings and the warnings themselves)."""

from __future__ import annotations

import datetime as dt
import json

from tests.test_oauth import ENTRA, google, imap, microsoft
from tests.web.conftest import serving, signed_in
from tests.web.test_screenshots import _axe_violations


def test_the_operations_page_warns_of_a_secret_running_out(browser, tmp_path):
    soon = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=10)
    later = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=200)
    sources = [imap(name="m365", oauth2=microsoft(secret_expires_on=soon.isoformat())),
               imap(name="gmail", oauth2=google(refresh_token_expires_on=later.isoformat()))]
    with serving(tmp_path / "var", extra_env={"INTAKE_IMAP": json.dumps(sources)}) as server:
        context = browser.new_context()
        try:
            page = signed_in(context.new_page(), server)
            page.goto(f"{server.url}/operations#sources")
            region = page.get_by_role("region", name="Mailbox secrets running out")
            assert region.get_by_role("listitem").all_inner_texts() == [
                f"IMAP source 'm365': the OAuth2 client secret expires on {soon}, in 10 days; {ENTRA}"]
            assert _axe_violations(page) == []
        finally:
            context.close()
