"""The pipeline: one stored submission in, one disposition out, in a single transaction.

read → drop duplicates → detect auto-reply → match an existing case → classify → decide (pipeline/decide.py:
hold or not, which acknowledgement by which channel) → open or update the case (reference, stage, flags,
clocks, holds, how to write to the resident) → queue the acknowledgement. A stage ends the flow only
by a disposition: accepted, held for triage, discarded, failed (see runner.py for failures).

How to write to the resident is carried onto the case before anything is queued, so the first
acknowledgement already honours it: a web-form submission's ``details["adjustments"]``,
``details["adjustment_note"]`` and ``details["language"]``, and, where the landlord writes in Welsh
(``landlord.welsh``), a message whose words are Welsh (``text.language``). They are added to what the
case has (``lifecycle.add_adjustments``): never dropping what a person set.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import lifecycle
from core.errors import UnreadableSubmission
from casework.models import Case, CaseLink, Submission, utcnow
from casework.policy import Policy
from casework.status import postcodes_in
from casework.properties import MatchedBy, PropertyMatch, match_property, stock_loaded
from casework.references import References
from core.settings import Settings
from casework.vocabulary import Actor, Adjustment, CaseStatus, Category, Channel, Disposition, EventAction, Language, LinkKind
from classifier import Classification
from intake.autoreply import detect_auto_reply
from intake.dedupe import dedupe_key
from pipeline.decide import CaseFacts, Decision, FollowUp, MatchedCase, decide, reply_address
from pipeline.scan_steps import record_scanning_lag
from pipeline.tiers import record_classification
from pipeline.matching import Match, match_case
from intake.message import ParsedMessage
from pipeline.budget import OverBudget, time_budget
from pipeline.read import read_message, store_attachments
from responders.correspondence import Correspondence
from responders.outbox import is_own_message_id
from text.language import is_welsh
from core.errors import ModelUnavailable
from core.logs import describe

if TYPE_CHECKING:
    from classifier.model import Classifier

log = logging.getLogger(__name__)
ANSWERED = (Disposition.ACCEPTED, Disposition.HELD, Disposition.DISCARDED)


class LazyClassifier:
    """The classifier, loaded on first use: `intake run` on an empty mailbox (and every command that
    classifies nothing) never imports scikit-learn, skops or scipy. The model's sidecar is read at once,
    so a wrong model path is still a one-line error at start-up; the model itself (and its checksum) is
    loaded, once, by the first ``classify``/``classify_many``. Safe to share between threads."""

    def __init__(self, path: Path | None = None, *, threshold: float | None = None) -> None:
        self.path, self._threshold = path, threshold
        self.threshold: float = float(threshold if threshold is not None else _sidecar(path)["threshold"])
        self._model: Classifier | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> "Classifier":
        with self._lock:
            if self._model is None:
                from classifier.model import Classifier

                self._model = Classifier.load(self.path, threshold=self._threshold)
            return self._model

    @property
    def model_version(self) -> str:
        return self.model.model_version

    def classify(self, subject: str, new_text: str) -> Classification:
        return self.model.classify(subject, new_text)

    def classify_many(self, items: Iterable[tuple[str, str]]) -> list[Classification]:
        return self.model.classify_many(items)


def _sidecar(path: Path | None) -> dict:
    """The model's JSON sidecar (where classifier.model looks for it), read without loading the model."""
    path = Path(path) if path is not None else Path(__file__).parents[1] / "classifier" / "models"
    if path.is_dir() or not path.suffix:
        path = path / "current.skops"
    try:
        return json.loads(path.with_suffix(".json").read_text())
    except (OSError, ValueError) as exc:
        raise ModelUnavailable(f"model metadata {path.with_suffix('.json')} cannot be read ({type(exc).__name__}): "
                               "train a model (intake train)") from exc


@dataclass
class Prepared:
    """A submission read ahead of its processing, as part of a batch (``Pipeline.prepare``): its
    message, or why it could not be read (``unreadable``: no retry will help; ``error``: a failure,
    re-raised when the submission is processed, inside its own savepoint), and the classification the
    batch gave it (None: classified alone when it is needed)."""

    message: ParsedMessage | None = None
    unreadable: UnreadableSubmission | None = None
    error: BaseException | None = None
    classification: Classification | None = None


@dataclass
class Pipeline:
    settings: Settings
    policy: Policy
    references: References
    classifier: "Classifier | LazyClassifier"
    correspondence: Correspondence
    # process() puts the batch's classification of the message it is routing here, for _classify;
    # keyed by the message object's id and removed when routing ends (one entry per message in flight).
    _classified: dict = dataclasses.field(default_factory=dict, init=False, repr=False, compare=False)

    def prepare(self, session: Session, submissions: Sequence[Submission]) -> dict[int, Prepared]:
        """Read a batch of submissions (each under its own time budget), then classify every message
        read in one call (0.9 ms a message, against 7-8 ms one at a time). Nothing is written: each
        submission's attachments are stored by ``process``. A failure is kept for its submission, never
        raised here; if the batch's classification fails or overruns its budget, each message is
        classified alone when it is processed, so only the message at fault fails."""
        if submissions:  # loaded before reading: a message's reading never runs in a smaller process
            self._load_classifier()
        prepared = {submission.id: self._read(submission) for submission in submissions}
        self._classify_batch([item for item in prepared.values() if item.message is not None])
        return prepared

    def _read(self, submission: Submission) -> Prepared:
        try:
            with self._budget():
                return Prepared(message=read_message(submission, self.settings))
        except UnreadableSubmission as exc:
            return Prepared(unreadable=exc)
        except (Exception, OverBudget) as exc:  # noqa: BLE001 - raised again when this submission is processed
            log.error("submission %s could not be read: %s", submission.id, describe(exc))
            return Prepared(error=exc.with_traceback(None))  # its frames may hold a huge message: let them go

    def _classify_batch(self, items: list[Prepared]) -> None:
        if not items:
            return
        texts = [(item.message.subject, item.message.new_text) for item in items]
        self._load_classifier()
        try:
            with self._budget():
                results = self.classifier.classify_many(texts)
        except (Exception, OverBudget) as exc:  # noqa: BLE001 - each is classified alone later
            log.warning("classifying a batch of %d failed (%s): classifying each alone", len(items), describe(exc))
            return
        for item, result in zip(items, results):
            item.classification = result

    def process(self, session: Session, submission: Submission, now: dt.datetime | None = None,
                prepared: Prepared | None = None) -> str:
        """Take a stored submission to its disposition; the caller owns the transaction. ``prepared``:
        what ``prepare`` read for it (without it, it is read now)."""
        now = now or utcnow()
        try:
            message = self._message(submission, prepared)
        except UnreadableSubmission as exc:  # no retry will help: it waits for a person
            return _dispose(submission, Disposition.FAILED, f"could not be read: {exc}", now)
        store_attachments(submission, message)
        _note_facts(submission, message)
        if prepared is not None and prepared.classification is not None:
            self._classified[id(message)] = prepared.classification  # _classify's answer for this message
        try:
            disposition, reason = self._route(session, submission, message, now)
        finally:
            self._classified.pop(id(message), None)
        return _dispose(submission, disposition, reason, now)

    def _message(self, submission: Submission, prepared: Prepared | None) -> ParsedMessage:
        if prepared is None:
            with self._budget():
                return read_message(submission, self.settings)
        if prepared.error is not None:
            raise prepared.error
        if prepared.unreadable is not None:
            raise prepared.unreadable
        return prepared.message

    def _route(self, session: Session, submission: Submission, message: ParsedMessage, now: dt.datetime):
        original = _earlier_copy(session, submission)
        if original is not None:
            submission.case_id = original.case_id
            return Disposition.DISCARDED, f"duplicate of submission #{original.id}"
        auto_reply = self._auto_reply(session, message)
        match = match_case(session, self.references, message, Channel(submission.kind))
        if auto_reply:
            _attach(match.case, submission, EventAction.AUTO_REPLY_RECEIVED, reason=auto_reply)
            return Disposition.DISCARDED, f"machine-generated ({auto_reply}); never acknowledged"
        if match.case is not None:
            return self._follow_up(session, submission, message, match, now)
        return self._new_case(session, submission, message, now, quoted=match.quoted)

    def _auto_reply(self, session: Session, message: ParsedMessage) -> str | None:
        own = {self.settings.landlord.email.lower()}
        return detect_auto_reply(message, own, lambda mid: is_own_message_id(session, mid))

    # -- a new case -------------------------------------------------------------------------

    def _new_case(self, session: Session, submission: Submission, message: ParsedMessage, now: dt.datetime,
                  quoted: Case | None = None):
        """A new case; when it quotes another case's reference from an address not on that case
        (``quoted``), it is held and linked to that case for staff, and nothing goes to its resident."""
        result = self._classify(message)
        home = _home(session, submission, message)
        confirmed, doubt = postal_confirmation(submission, reply_address(message), home, stock_loaded(session))
        facts = dataclasses.replace(self._new_facts(submission, message), quotes=quoted.reference if quoted else None,
                                    postal_address_confirmed=confirmed, address_doubt=doubt)
        decision = decide(message, result, facts, self.policy)
        case = self._open(session, submission, message, result, decision, now)
        _attach(case, submission, EventAction.CASE_OPENED, source=submission.source)
        if home is not None:
            lifecycle.set_property(case, home.property, actor=Actor.SYSTEM, at=submission.received_at, how=home.by)
        if quoted is not None:
            _link_quoted(session, case, quoted, submission.received_at)
        self._how_to_write(case, submission, message)
        _record_classification(case, submission, result, decision.for_staff)
        record_scanning_lag(case, submission, self.policy)
        lifecycle.add_flags(case, decision.flags, self.policy, submission.received_at)
        if result.category == Category.COMPLAINT:
            lifecycle.start_complaint_clocks(case, self.policy, submission.received_at)
        _hold(case, decision)
        self._acknowledge(session, case, submission, message, decision)
        return (Disposition.HELD, "; ".join(decision.holds)) if decision.held else (Disposition.ACCEPTED, None)

    def _new_facts(self, submission: Submission, message: ParsedMessage) -> CaseFacts:
        details = submission.details
        return CaseFacts(
            received_at=submission.received_at, threshold=self.classifier.threshold, channel=Channel(submission.kind),
            reply_address=reply_address(message), postal_address=bool(details.get("postal_address")),
            phone=bool(details.get("phone")), representative=bool(details.get("representative")),
            poor_ocr=(details.get("ocr_confidence") or 0) if details.get("low_confidence") else None,
        )

    def _open(self, session: Session, submission: Submission, message: ParsedMessage, result: Classification,
              decision: Decision, now: dt.datetime) -> Case:
        return lifecycle.open_case(
            session, self.references, category=result.category, held=decision.held,
            received_at=submission.received_at, now=now, confidence=result.confidence,
            model_version=result.model_version, resident_email=reply_address(message),
            resident_name=message.sender_name, subject=message.subject or None,
            resident_address=submission.details.get("postal_address"),
        )

    # -- a follow-up on an existing case ---------------------------------------------------

    def _follow_up(self, session: Session, submission: Submission, message: ParsedMessage, match: Match,
                   now: dt.datetime):
        case = match.case
        _attach(case, submission, EventAction.REPLY_RECEIVED)
        if case.property_id is None and not match.stranger and (home := _home(session, submission, message)):
            lifecycle.set_property(case, home.property, actor=Actor.SYSTEM, at=submission.received_at, how=home.by)
        if not match.stranger:  # a stranger's message never changes how we write to the resident
            self._how_to_write(case, submission, message)
        result = self._classify(message)
        _record_classification(case, submission, result)
        facts = dataclasses.replace(self._case_facts(submission, case), stranger=match.stranger)
        decision = decide(message, result, facts, self.policy)
        lifecycle.add_flags(case, decision.flags, self.policy, submission.received_at)
        _hold(case, decision)
        if decision.follow_up == FollowUp.NONE:
            if decision.held:
                return Disposition.HELD, f"reply added to case {case.reference}: " + "; ".join(decision.holds)
            return Disposition.ACCEPTED, f"reply added to case {case.reference}"
        self._move(case, submission, decision.follow_up)
        self._acknowledge(session, case, submission, message, decision)
        if decision.follow_up == FollowUp.UNSURE:
            return Disposition.HELD, f"reply to case {case.reference} needs a person"
        return Disposition.ACCEPTED, f"reply moved case {case.reference}: {decision.follow_up}"

    def _case_facts(self, submission: Submission, case: Case) -> CaseFacts:
        matched = MatchedCase(category=case.category, stage=case.stage, held=case.status == CaseStatus.HELD)
        return CaseFacts(
            received_at=submission.received_at, threshold=self.classifier.threshold, channel=Channel(submission.kind),
            reply_address=case.resident_email, postal_address=bool(case.resident_address), case=matched,
        )

    def _move(self, case: Case, submission: Submission, follow_up: FollowUp) -> None:
        if follow_up == FollowUp.ESCALATE:
            lifecycle.escalate(case, self.policy, submission.received_at, submission_id=submission.id)
        elif follow_up == FollowUp.COMPLAINT:
            lifecycle.become_complaint(case, self.policy, submission.received_at, submission_id=submission.id)

    # -- shared steps -----------------------------------------------------------------------

    def _how_to_write(self, case: Case, submission: Submission, message: ParsedMessage) -> None:
        """The adjustments, note and language this submission asks for, added to the case's."""
        details = submission.details or {}
        known = {item.value for item in Adjustment}
        adjustments = [value for value in details.get("adjustments") or [] if value in known]
        note = details.get("adjustment_note") if isinstance(details.get("adjustment_note"), str) else None
        language = self._language(details, message)
        if adjustments or (note and note.strip()) or language:
            lifecycle.add_adjustments(case, adjustments, note, actor=Actor.SYSTEM, at=submission.received_at,
                                      language=language, submission_id=submission.id, source=submission.kind)

    def _language(self, details: dict, message: ParsedMessage) -> str | None:
        """Welsh, where the landlord writes in Welsh and the resident chose the Welsh form or wrote in
        Welsh; None otherwise (nothing changes, and lingua is never loaded when Welsh is off)."""
        if not self.settings.landlord.welsh:
            return None
        if details.get("language") == Language.WELSH or is_welsh(f"{message.subject or ''}\n{message.new_text or ''}"):
            return Language.WELSH.value
        return None

    def _load_classifier(self) -> None:
        """A lazy classifier's model is loaded outside any time budget: loading is not reading."""
        if isinstance(self.classifier, LazyClassifier):
            self.classifier.model  # noqa: B018 - the load

    def _classify(self, message: ParsedMessage) -> Classification:
        """The one place a message is classified: the batch's answer for it when ``prepare`` gave one,
        else the classifier now, under the time budget."""
        batched = self._classified.get(id(message))
        if batched is not None:
            return batched
        self._load_classifier()
        with self._budget():
            return self.classifier.classify(message.subject, message.new_text)

    def _budget(self):
        """Reading and classifying a message each run under ``[limits] processing_seconds``; OverBudget
        goes up to the runner, which sets the message aside. Only these steps: never database work."""
        return time_budget(self.settings.limits.processing_seconds)

    def _acknowledge(self, session: Session, case: Case, submission: Submission, message: ParsedMessage,
                     decision: Decision) -> None:
        """Queue the acknowledgement the decision chose, by the correspondence's channel; or record why none."""
        if decision.acknowledgement is None:
            lifecycle.record(case, Actor.SYSTEM, EventAction.NO_ACKNOWLEDGEMENT, reason=decision.no_acknowledgement)
            return
        self.correspondence.acknowledge(
            session, case, decision.acknowledgement, submission_id=_id(session, submission),
            resident_text=message.new_text, in_reply_to=message.message_id, references=_references(message),
        )


def _home(session: Session, submission: Submission, message: ParsedMessage) -> PropertyMatch | None:
    """The landlord's home this message is about (casework.properties), for a letter or an email."""
    details = submission.details or {}
    address = details.get("postal_address") if isinstance(details.get("postal_address"), list) else None
    written = sorted(postcodes_in(address))  # a logged contact's or the form's address: no postcode read apart
    postcode = details.get("postcode") or (written[-1] if len(written) == 1 else None)
    return match_property(session, address=address, postcode=postcode, text=message.new_text or message.text or "",
                          email=reply_address(message))


def postal_confirmation(submission: Submission, reply: str | None, home: PropertyMatch | None,
                        stock: bool) -> tuple[bool | None, str | None]:
    """Whether a letter answered by post may be printed to the address read from it, and why not.

    None when the answer would not be printed (the letter gives an email address, or it is not a
    letter). True when the letter gives a well-formed address (extract.py believes a postcode only
    when it is well formed as written, or repaired into one of the stock list's) and, with a stock
    list loaded, that address is one of its homes. False, with the doubt in words, when the address
    matches no home, its postcode is damaged beyond repair, or the letter gives none but its tenancy
    reference or sender points at a home (the stock list's address is not the letter's)."""
    if submission.kind != Channel.LETTER or reply:
        return None, None
    details = submission.details or {}
    if details.get("postal_address"):
        if not stock or (home is not None and home.by == MatchedBy.ADDRESS):
            return True, None
        return False, f"{details.get('postcode')} and the house number match no home in the stock list"
    if details.get("unsure_postcode"):
        return False, f"the postcode {details['unsure_postcode']!r} is not well formed"
    if home is not None:
        return False, (f"the letter gives no postal address; its {home.by} points at the home with "
                       f"UPRN {home.property.uprn}")
    return None, None


def _link_quoted(session: Session, case: Case, quoted: Case, at: dt.datetime) -> None:
    """A RELATED link from the new case to the case it quotes, recorded on both, for staff only."""
    if case.id is None:
        session.flush()
    session.add(CaseLink(case_id=case.id, other_case_id=quoted.id, kind=LinkKind.RELATED, created_at=at,
                         created_by=Actor.SYSTEM))
    lifecycle.record(case, Actor.SYSTEM, EventAction.LINKED, at=at, other=quoted.reference, kind=str(LinkKind.RELATED))
    lifecycle.record(quoted, Actor.SYSTEM, EventAction.LINKED, at=at, other=case.reference, kind=str(LinkKind.RELATED))


def _hold(case: Case, decision: Decision) -> None:
    for reason in decision.holds:
        lifecycle.hold(case, reason)


def _earlier_copy(session: Session, submission: Submission) -> Submission | None:
    if not submission.dedupe_key:
        return None
    return session.scalar(
        select(Submission)
        .where(Submission.dedupe_key == submission.dedupe_key, Submission.id != submission.id)
        .where(Submission.disposition.in_(ANSWERED))
        .order_by(Submission.id)
        .limit(1)
    )


def _note_facts(submission: Submission, message: ParsedMessage) -> None:
    submission.message_id = message.message_id
    submission.sender = reply_address(message)
    submission.subject = message.subject
    submission.extracted_text = submission.extracted_text or message.text
    submission.dedupe_key = dedupe_key(message)


def _attach(case: Case | None, submission: Submission, action: EventAction, **detail) -> None:
    if case is None:
        return
    submission.case = case
    lifecycle.record(case, Actor.SYSTEM, action, submission_id=submission.id, **detail)


def _id(session: Session, submission: Submission) -> int:
    if submission.id is None:
        session.flush()
    return submission.id


def _record_classification(case: Case, submission: Submission, result: Classification,
                           for_staff: tuple[str, ...] = ()) -> None:
    """Both tiers, the named rules that fired and any lines for staff (pipeline/tiers.py)."""
    record_classification(case, submission.id, result, for_staff)


def _references(message: ParsedMessage) -> list[str]:
    return [*message.references, *([message.message_id] if message.message_id else [])]


def _dispose(submission: Submission, disposition: Disposition, reason: str | None, now: dt.datetime) -> str:
    submission.disposition = disposition
    submission.reason = reason
    submission.error = None
    submission.processed_at = now
    return disposition
