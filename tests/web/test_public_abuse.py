"""The public form under abuse, against a real `intake serve`: a flood from one
address is refused with 429 after a few forms without losing any that were accepted; a 50 MB upload is
refused before its body is read; a file whose bytes are not what its name says is refused; a naive bot
that fills every field is answered like a person but stored as discarded and never acknowledged."""

from __future__ import annotations

import json
import re
import socket

import pytest

from tests.web.conftest import serving, start_server, stop_server
from tests.web.public_forms import jpeg, main_text, post_report, reference_of, rows, token_of

FORM = {"description": "I want to make a formal complaint. Damp and black mould have come back on the bathroom "
                       "ceiling of my flat and nobody has come to treat it. I am very unhappy.",
        "name": "Robin Shaw", "email": "robin.shaw@example.net"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("abuse") / "var"
    var_dir.mkdir()
    # Welsh off; room for this module's dozen forms from 127.0.0.1 (the flood test has a server with the defaults)
    server = start_server(var_dir, extra_env={"INTAKE_PUBLIC__REPORT_PER_MINUTE": "30"})
    server.var_dir = var_dir
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture
def client(browser):
    """An HTTP client with its own cookies (Playwright's request API: no page, no JavaScript)."""
    context = browser.new_context()
    yield context.request
    context.close()


def web_submissions(var_dir) -> int:
    return rows(var_dir, "SELECT count(*) FROM submissions WHERE kind = 'web'")[0][0]


def test_fifty_forms_in_a_minute_from_one_address_are_refused_past_the_limit_and_none_accepted_is_lost(
        browser, tmp_path):
    """On a server of its own, behind a proxy: the limit counts the address the proxy gives (X-Forwarded-For,
    trusted from loopback as uvicorn does), so another address is still served."""
    with serving(tmp_path / "var", extra_env={"INTAKE_WEB__BEHIND_PROXY": "true"}) as own:
        context = browser.new_context()
        flooder = {"X-Forwarded-For": "203.0.113.5"}
        try:
            statuses, references, waits = [], [], set()
            for n in range(50):
                answer = post_report(context.request, own.url, {**FORM, "description": f"{FORM['description']} ({n})"},
                                     headers=flooder)
                statuses.append(answer.status)
                if answer.status == 200:
                    references.append(reference_of(answer.text()))
                else:
                    waits.add(answer.headers.get("retry-after"))
                    text = main_text(answer.text())
                    assert re.search(r"Please try again in \d+ minutes?\. If it is urgent, call us on 0300 000 0000",
                                     text), text
            # [public] report_per_minute is 5: five forms, then 429s saying when to try again.
            assert statuses == [200] * 5 + [429] * 45, statuses
            assert None not in waits and all(0 < int(wait) <= 60 for wait in waits), waits
            assert len(set(references)) == 5 and None not in references
            stored = rows(tmp_path / "var", "SELECT c.reference FROM submissions s JOIN cases c ON c.id = s.case_id WHERE s.kind = 'web'")
            assert sorted(reference for (reference,) in stored) == sorted(references)
            # Another address behind the same proxy is not held back by the flood.
            other = post_report(context.request, own.url, FORM, headers={"X-Forwarded-For": "203.0.113.6"})
            assert other.status == 200 and reference_of(other.text())
            clients = rows(tmp_path / "var", "SELECT client, count(*) FROM public_attempts GROUP BY client ORDER BY client")
            assert clients == [("203.0.113.5", 5), ("203.0.113.6", 1)], clients
        finally:
            context.close()


def _raw_post(server, path: str, claimed_length: int, first: bytes) -> bytes:
    """A multipart POST that claims ``claimed_length`` bytes and sends only the first ones; whatever the
    server answers before it has the rest (b'' when it waits for them)."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: multipart/form-data; "
                           f"boundary=b\r\nContent-Length: {claimed_length}\r\n\r\n".encode() + first)
        answer = b""
        try:
            while chunk := connection.recv(65536):
                answer += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        return answer


def test_a_50_mb_upload_is_refused_before_it_is_read_with_a_clear_message(server):
    before = web_submissions(server.var_dir)
    head = (b'--b\r\nContent-Disposition: form-data; name="attachments"; filename="video.jpg"\r\n'
            b"Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff" + b"\0" * 1024 * 1024)
    answer = _raw_post(server, "/report", 50 * 1000 * 1000, head)
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.endswith(b"413 Request Entity Too Large"), answer[:300]
    page = main_text(rest.decode("utf-8", "replace"))
    assert page == ("Your files are too big The form can take up to 20 MB in all, and each file can be up to 10 MB. "
                    "Go back and choose smaller files or fewer of them. You can also email them to "
                    "complaints@example.org. Go back to the form"), page
    assert web_submissions(server.var_dir) == before


def test_a_file_whose_bytes_are_not_what_its_name_says_is_refused_and_nothing_is_stored(server, client):
    before = web_submissions(server.var_dir)
    cases = {
        "damp.jpg": (b"<html><script>alert(1)</script></html>", "image/jpeg",
                     "damp.jpg is not really a JPEG file: its contents are a different kind."),
        "letter.pdf": (jpeg(), "application/pdf", "letter.pdf is not really a PDF file: its contents are a different kind."),
        "notes.html": (b"<p>hello</p>", "text/html", "notes.html is not a photo (JPEG, PNG or HEIC) or a PDF document"),
        "huge.png": (b"\x89PNG\r\n\x1a\n" + b"\0" * (10 * 1024 * 1024), "image/png",
                     "huge.png is bigger than 10 MB: choose a smaller file"),
    }
    for filename, (data, mime, message) in cases.items():
        answer = post_report(client, server.url, FORM, [(filename, data, mime)])
        text = main_text(answer.text())
        assert answer.status == 400 and message in text, (filename, answer.status, text[:600])
        assert "If you chose files, please choose them again." in text
        assert 'value="Robin Shaw"' in answer.text()  # what was typed is kept
    assert web_submissions(server.var_dir) == before
    # The same form with a real photo (its name in capitals, as phones write them) is taken.
    answer = post_report(client, server.url, FORM, [("IMG_0042.JPG", jpeg(), "image/jpeg")])
    assert answer.status == 200 and reference_of(answer.text())


def test_the_honeypot_catches_a_naive_bot_that_fills_every_field(server, client):
    page = client.get(f"{server.url}/report")
    names = set(re.findall(r'<(?:input|textarea)[^>]*\bname="([^"]+)"', page.text())) - {"csrf_token", "attachments"}
    assert {"description", "outcome", "name", "email", "phone", "address", "postcode", "website"} <= names, names
    filled = {name: "Cheap pills at http://spam.example" for name in names}
    filled.update(email="bot@spam.example", phone="0800 000 000", postcode="EX1 1AA", on_behalf="",
                  adjustments="large_print")
    before = rows(server.var_dir, "SELECT count(*) FROM cases")[0][0]
    answer = client.post(f"{server.url}/report", form={"csrf_token": token_of(page.text()), **filled})
    assert answer.status == 200
    text = main_text(answer.text())
    assert text.startswith("Thank you, we have received your message") and "reference" in text
    assert reference_of(answer.text()) is None  # no reference is made up for it
    [(disposition, reason, raw, case_id)] = rows(
        server.var_dir, "SELECT disposition, reason, raw, case_id FROM submissions WHERE kind = 'web' "
        "AND disposition != 'accepted' AND disposition != 'held'")
    assert (disposition, case_id) == ("discarded", None) and "hidden field" in reason
    assert json.loads(raw)["fields"]["website"] == "Cheap pills at http://spam.example"
    assert rows(server.var_dir, "SELECT count(*) FROM cases")[0][0] == before
    assert rows(server.var_dir, "SELECT count(*) FROM outbox WHERE to_address = 'bot@spam.example'") == [(0,)]
    # A bot that does not even fetch the form has no token: refused, nothing stored.
    blind = client.post(f"{server.url}/report", form=filled, headers={"Cookie": ""})
    assert blind.status == 403


def test_the_same_form_page_sent_twice_is_one_submission_with_one_reference(server, client):
    """Send pressed twice (or a browser resending after a timeout) on one form page: its form_id makes it
    one submission, and the second answer gives the same reference; a fresh page is a new submission."""
    page = client.get(f"{server.url}/report").text()
    form_id = re.search(r'name="form_id" value="([0-9a-f]{32})"', page).group(1)
    before = web_submissions(server.var_dir)
    fields = {"csrf_token": token_of(page), "form_id": form_id, **FORM}
    first, second = (client.post(f"{server.url}/report", multipart=fields) for _ in range(2))
    assert first.status == second.status == 200
    assert reference_of(first.text()) and reference_of(first.text()) == reference_of(second.text())
    assert web_submissions(server.var_dir) == before + 1
    assert rows(server.var_dir, "SELECT count(*) FROM submissions WHERE natural_key = ?", f"form:{form_id}") == [(1,)]
    another = client.get(f"{server.url}/report").text()
    assert re.search(r'name="form_id" value="([0-9a-f]{32})"', another).group(1) != form_id


def test_welsh_is_not_offered_when_the_landlord_has_not_switched_it_on(server, client):
    english = client.get(f"{server.url}/report?lang=cy").text()
    assert '<html lang="en-GB">' in english and "Cymraeg" not in english and "Make a complaint" in english
