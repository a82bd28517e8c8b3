"""split_reply: what the writer wrote now, apart from history, signatures and disclaimers."""

from __future__ import annotations

from pathlib import Path

from intake.parse import parse_message
from text.quoting import split_reply

FIXTURES = Path(__file__).parents[1] / "fixtures" / "mail"


def parsed(name: str):
    return parse_message((FIXTURES / name).read_bytes())


# ---------------------------------------------------------------- quoted history


def test_it_leaves_a_message_without_history_alone():
    split = split_reply("The lift in Tower B has been broken for a week.")
    assert split.new_text == "The lift in Tower B has been broken for a week."
    assert split.quoted_text == split.signature == ""


def test_it_splits_a_gmail_reply_whose_attribution_wraps_over_two_lines():
    message = parsed("gmail_reply.eml")
    assert message.new_text.startswith("Hi,\n\nNobody turned up on Friday")
    assert "Thank you for contacting us" in message.quoted_text
    assert "Thank you for contacting us" not in message.new_text


def test_it_splits_a_gmail_reply_on_one_line():
    text = "Still no hot water.\n\nOn Tue, 3 Nov 2026 at 10:02, Riverside Homes <complaints@x.org.uk> wrote:\n> Booked."
    split = split_reply(text)
    assert split.new_text == "Still no hot water."
    assert split.quoted_text.endswith("> Booked.")


def test_it_splits_an_outlook_reply_below_a_line_of_underscores():
    message = parsed("outlook_reply.eml")
    assert message.new_text.endswith("I want to make a formal complaint.\n\nDerek")
    assert message.quoted_text.startswith("________________________________\nFrom: Riverside Homes Repairs")
    assert message.signature.startswith("Get Outlook for Android")


def test_it_splits_at_an_original_message_line():
    text = "Please escalate to stage 2.\n\n-----Original Message-----\nFrom: Complaints\nSent: 3 November 2026\nOur stage 1 response"
    split = split_reply(text)
    assert split.new_text == "Please escalate to stage 2."
    assert split.quoted_text.startswith("-----Original Message-----")


def test_it_splits_at_an_outlook_header_block_without_a_separator():
    text = "I disagree.\n\nFrom: Complaints Team <complaints@x.org.uk>\nSent: 03 November 2026 10:00\nTo: Jo\nSubject: Stage 1 response\n\nDear Jo"
    split = split_reply(text)
    assert split.new_text == "I disagree."
    assert split.quoted_text.startswith("From: Complaints Team")


def test_it_does_not_take_a_from_line_in_the_residents_own_words_for_history():
    text = "From: the flat upstairs, water is pouring in.\nPlease send someone."
    assert split_reply(text).new_text == text


def test_it_splits_an_apple_mail_reply_with_a_quoted_attribution():
    message = parsed("apple_reply.eml")
    assert message.new_text.endswith("My husband is 84 and on oxygen.")
    assert message.quoted_text.startswith("> On 6 Nov 2026, at 09:12")
    assert message.signature == "Sent from my iPhone"


def test_it_keeps_a_bottom_posted_answer_below_the_quote_as_new_text():
    text = "On Tue, 3 Nov 2026, Complaints wrote:\n> Is the leak fixed?\n\nNo, it is worse.\n\n> Can we visit Friday?\n\nYes."
    split = split_reply(text)
    assert split.new_text == "No, it is worse.\n\nYes."
    assert "> Is the leak fixed?" in split.quoted_text and "> Can we visit Friday?" in split.quoted_text


def test_it_falls_back_to_the_whole_text_when_everything_is_quoted():
    text = "> We have booked your repair.\n> Riverside Homes"
    split = split_reply(text)
    assert split.new_text == text
    assert split.quoted_text == text


# ---------------------------------------------------------------- forwards


def test_it_keeps_forwarded_content_as_new_text_after_the_forwarders_note():
    message = parsed("forwarded_gmail.eml")
    note, _, forwarded = message.new_text.partition("---------- Forwarded message ---------")
    assert note.startswith("I'm writing on behalf of my mother")
    assert "From: Eileen Brennan" in forwarded
    assert "the water is coming through the ceiling" in forwarded
    assert message.quoted_text == ""


def test_it_unquotes_an_apple_mail_forward():
    text = (
        "See below from my neighbour.\n\nBegin forwarded message:\n\n> From: Bob <bob@example.com>\n"
        "> Subject: Mould\n>\n> The mould in the bathroom is back.\n"
    )
    split = split_reply(text)
    assert "From: Bob <bob@example.com>\nSubject: Mould\n\nThe mould in the bathroom is back." in split.new_text
    assert split.new_text.startswith("See below from my neighbour.")


def test_it_treats_an_outlook_block_with_a_fw_subject_as_a_forward():
    text = (
        "Forwarding my daughter's email.\n\n________________________________\nFrom: Amy <amy@x.com>\n"
        "Sent: 02 November 2026 18:00\nTo: Mum\nSubject: FW: damp\n\nThe damp is back in the back bedroom."
    )
    split = split_reply(text)
    assert "The damp is back in the back bedroom." in split.new_text


def test_it_puts_the_forwarded_messages_own_history_in_quoted_text():
    text = (
        "Fyi.\n\n---------- Forwarded message ---------\nFrom: Ann <ann@x.com>\nSubject: Re: leak\n\n"
        "Still leaking.\n\nOn Tue, 3 Nov 2026 at 09:00, Repairs <r@x.org.uk> wrote:\n> Fixed now."
    )
    split = split_reply(text)
    assert "Still leaking." in split.new_text and "Fixed now" not in split.new_text
    assert "> Fixed now." in split.quoted_text


# ---------------------------------------------------------------- signatures and disclaimers


def test_it_takes_off_a_dash_dash_signature():
    split = split_reply("The gate is broken.\n\n-- \nJo Bloggs\n07700 900123")
    assert (split.new_text, split.signature) == ("The gate is broken.", "--\nJo Bloggs\n07700 900123")


def test_it_takes_off_mobile_signatures():
    for footer in ("Sent from my iPhone", "Sent from my Galaxy", "Get Outlook for Android", "Sent from Outlook for iOS"):
        split = split_reply(f"The gate is broken.\n\n{footer}")
        assert (split.new_text, split.signature) == ("The gate is broken.", footer)


def test_it_takes_off_a_closing_with_a_name_and_address():
    split = split_reply("The gate is broken.\n\nKind regards,\nJo Bloggs\n14 Mill Court\nLeeds LS2 7AB")
    assert split.new_text == "The gate is broken."
    assert split.signature.startswith("Kind regards,")


def test_it_keeps_a_closing_followed_by_more_than_a_few_lines():
    text = "Thanks\nfor nothing, the plumber never came\nand\nthe\nkitchen\nis\nflooded"
    assert split_reply(text).new_text == text


def test_it_keeps_a_message_that_is_only_thanks():
    assert split_reply("Thanks").new_text == "Thanks"


def test_it_takes_off_a_legal_disclaimer():
    message = parsed("solicitor_disclaimer.eml")
    assert message.new_text.endswith("confirm your reference.")
    assert "confidential" in message.signature and "confidential" not in message.new_text


def test_it_takes_off_a_disclaimer_headed_disclaimer():
    split = split_reply("Please call my client.\n\nDISCLAIMER: The contents of this email are private.")
    assert split.new_text == "Please call my client."
    assert split.signature.startswith("DISCLAIMER")


def test_it_does_not_take_a_residents_own_use_of_confidential_for_a_disclaimer():
    text = "Please keep this confidential: my neighbour is threatening me."
    assert split_reply(text).new_text == text


def test_it_copes_quickly_with_thousands_of_nested_forwards_and_quotes():
    forwards = split_reply("Begin forwarded message:\nFrom: a\n\nhi\n" * 3000)
    interleaved = split_reply("On Tue, 3 Nov 2026, X wrote:\n> q\nanswer\n" * 5000)
    assert forwards.new_text.count("hi") > 100 and interleaved.new_text.count("answer") > 100
