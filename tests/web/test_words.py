"""The app's words for the vocabulary: every audit-trail action has its words, so a new EventAction
cannot reach a case page as its raw value."""

from casework.vocabulary import EventAction
from triage.words import ACTION_WORDS


def test_every_event_action_has_words_on_the_case_page():
    assert set(EventAction) - set(ACTION_WORDS) == set()
