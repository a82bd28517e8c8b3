"""The IMAP source: fetch a folder's messages by UID and move each to a processed folder when done.

Where it got to is two checkpoints: ``uidvalidity`` and ``last_uid`` (the highest UID told done).
Every fetch yields every message still in the folder and not yet marked processed, lowest UID first:
new ones (above ``last_uid``) and any fetched before whose ``done()`` never came (after a crash).
The runner recognises the natural key ``"uidvalidity:uid"`` of those and just calls ``done()``.
If UIDVALIDITY changes the UIDs mean nothing any more: ``last_uid`` is forgotten and the folder is
read again; the pipeline dedupes on the natural key and the Message-ID, so that is safe.

Marking done is one command per batch: the runner calls ``done_all`` once a batch's submissions have
committed, and the batch is moved to the processed folder with one ``UID MOVE`` (or copied, flagged
deleted and expunged by UID, or flagged, where the server lacks MOVE). A UID no longer in the folder
(moved by an earlier run that died before its checkpoint) is simply not moved: nothing is searched
for first.

Push: ``wait_for_mail`` (the Source protocol's contract) uses IMAP IDLE on a second connection of its
own, so the scheduler can wait for mail in one thread while another fetches.

Only UIDs are used, never sequence numbers. Message bodies are never logged.
"""

from __future__ import annotations

import datetime as dt
import imaplib
import logging
import socket
import ssl
import time
from typing import Callable, Iterator, TypeVar

from imapclient import DELETED, SEEN, IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from intake.checkpoints import Checkpoints
from core.errors import SourceUnavailable
from core.oauth import TokenUnavailable, imap_login
from core.settings import ImapSourceSettings
from intake.items import RawItem, Source

log = logging.getLogger(__name__)

BATCH_SIZE = 50
PROCESSED_KEYWORD = "$IntakeProcessed"
FETCH_PARTS = [b"BODY.PEEK[]", b"INTERNALDATE"]
# What a dropped or broken connection looks like; LoginError is handled before these.
CONNECTION_ERRORS = (OSError, socket.timeout, imaplib.IMAP4.abort, IMAPClientError)
NEW_MAIL = (b"EXISTS", b"RECENT")  # what a server says, idling, when mail arrives
IDLE_AT_MOST = 25 * 60  # seconds: RFC 2177 servers may end an IDLE after 30 minutes; renew before that

T = TypeVar("T")


class ImapSource(Source):
    """One configured IMAP folder as a source of raw e-mail items."""

    def __init__(
        self,
        settings: ImapSourceSettings,
        checkpoints: Checkpoints,
        *,
        retries: int = 3,
        backoff_seconds: float = 1.0,
        client_factory: Callable[..., IMAPClient] | None = None,
    ) -> None:
        self.settings = settings
        self.name = settings.name
        self.checkpoints = checkpoints
        self.retries = retries
        self.backoff_seconds = backoff_seconds
        self.client_factory = client_factory or IMAPClient
        self._client: IMAPClient | None = None
        self._uidvalidity: int | None = None
        self._processed_folder_known = False
        self._idle_client: IMAPClient | None = None  # wait_for_mail's own connection

    # -- the Source protocol ----------------------------------------------------------------

    def fetch(self) -> Iterator[RawItem]:
        uids = self._with_retry("list messages", self._pending_uids)
        for start in range(0, len(uids), BATCH_SIZE):
            batch = uids[start : start + BATCH_SIZE]
            yield from self._with_retry("fetch messages", lambda: self._fetch_batch(batch))

    def done(self, item: RawItem) -> None:
        self.done_all([item])

    def done_all(self, items) -> None:
        """One move for the batch's messages, then one checkpoint (the highest UID of the batch)."""
        by_validity: dict[int, list[int]] = {}
        for item in items:
            by_validity.setdefault(item.details["uidvalidity"], []).append(item.details["uid"])
        for uidvalidity, uids in by_validity.items():
            self._with_retry("mark messages processed", lambda: self._mark_processed(sorted(uids), uidvalidity))
            self._advance_last_uid(max(uids), uidvalidity)

    def wait_for_mail(self, seconds: float) -> bool:
        """IMAP IDLE on this source's folder, on a connection of its own (the Source protocol's
        contract): True as soon as the server reports new mail (EXISTS or RECENT), or at once when a
        fresh connection finds the folder not empty (mail may have come while nobody was idling);
        False after ``seconds``; False at once when the server lacks IDLE (poll instead) or the
        connection fails (logged; the next call connects again)."""
        try:
            return self._idle(seconds)
        except (SourceUnavailable, *CONNECTION_ERRORS) as exc:
            log.warning("IMAP %s: could not wait for mail (%s); polling instead", self.name, type(exc).__name__)
            self._drop_idle_connection()
            return False

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            _quietly_logout(client)
        self._drop_idle_connection()

    # -- IDLE -------------------------------------------------------------------------------------

    def _idle(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        client = self._idle_client
        if client is None:
            client = self._idle_client = self._connect()
            exists = client.select_folder(self.settings.folder, readonly=True).get(b"EXISTS", 0)
            if not client.has_capability("IDLE"):
                return False
            if exists:
                return True
        elif not client.has_capability("IDLE"):
            return False
        elif _new_mail(client.noop()[1]):  # arrived between two waits
            return True
        while (left := deadline - time.monotonic()) > 0:
            if self._idle_once(client, min(left, IDLE_AT_MOST)):
                return True
        return False

    def _idle_once(self, client: IMAPClient, seconds: float) -> bool:
        client.idle()
        seen, deadline = False, time.monotonic() + seconds
        try:
            while not seen and (left := deadline - time.monotonic()) > 0:
                seen = _new_mail(client.idle_check(timeout=left))
        finally:
            said_when_done = client.idle_done()[1]
        return seen or _new_mail(said_when_done)

    def _drop_idle_connection(self) -> None:
        client, self._idle_client = self._idle_client, None
        if client is not None:
            _quietly_shutdown(client)

    # -- connecting ---------------------------------------------------------------------------

    def _with_retry(self, what: str, action: Callable[[], T]) -> T:
        """Run action on a live, selected connection; reconnect with back-off when it drops."""
        for attempt in range(self.retries + 1):
            try:
                self._ensure_selected()
                return action()
            except CONNECTION_ERRORS as exc:
                self._drop_connection()
                if attempt == self.retries:
                    raise self._unavailable(what, exc) from exc
                self._back_off(what, attempt, exc)
        raise AssertionError("unreachable")

    def _unavailable(self, what: str, exc: Exception) -> SourceUnavailable:
        s = self.settings
        return SourceUnavailable(
            f"IMAP source {self.name!r}: could not {what} in folder {s.folder!r} on {s.host}:{s.port} "
            f"after {self.retries + 1} attempts ({type(exc).__name__}: {str(exc)[:200]})"
        )

    def _back_off(self, what: str, attempt: int, exc: Exception) -> None:
        delay = self.backoff_seconds * 2**attempt
        log.warning("IMAP %s: could not %s (%s); retrying in %.2fs", self.name, what, type(exc).__name__, delay)
        time.sleep(delay)

    def _ensure_selected(self) -> None:
        if self._client is None:
            self._client = self._connect()
            self._select()

    def _connect(self) -> IMAPClient:
        s = self.settings
        client = self.client_factory(s.host, port=s.port, ssl=s.security == "tls", timeout=s.timeout_seconds)
        client.normalise_times = False  # keep INTERNALDATE's own offset: we convert to UTC ourselves
        try:
            if s.security == "starttls":
                client.starttls(ssl.create_default_context())
            imap_login(client, s)  # the password, or XOAUTH2 with a token from [imap.oauth2]
        except LoginError as exc:
            _quietly_logout(client)
            how = "XOAUTH2 login (the server refused the OAuth2 token)" if s.oauth2 else "login"
            raise SourceUnavailable(f"{how} failed for {s.username} on {s.host}:{s.port}") from exc
        except TokenUnavailable as exc:
            _quietly_logout(client)
            raise SourceUnavailable(f"no OAuth2 token to log in as {s.username} on {s.host}:{s.port}: {exc}") from exc
        return client

    def _select(self) -> None:
        info = self._client.select_folder(self.settings.folder)
        self._uidvalidity = int(info[b"UIDVALIDITY"])
        self._check_uidvalidity(self._uidvalidity)

    def _drop_connection(self) -> None:
        client, self._client = self._client, None
        self._processed_folder_known = False
        if client is not None:
            _quietly_shutdown(client)

    # -- checkpoints ----------------------------------------------------------------------------

    def _check_uidvalidity(self, uidvalidity: int) -> None:
        known = self.checkpoints.get("uidvalidity")
        if known == str(uidvalidity):
            return
        if known is not None:
            log.warning("IMAP %s: UIDVALIDITY changed %s -> %s; reading the folder again", self.name, known, uidvalidity)
        self.checkpoints.set("uidvalidity", str(uidvalidity))
        self.checkpoints.set("last_uid", "0")

    def _last_uid(self) -> int:
        return int(self.checkpoints.get("last_uid") or 0)

    def _advance_last_uid(self, uid: int, uidvalidity: int) -> None:
        if str(uidvalidity) == self.checkpoints.get("uidvalidity") and uid > self._last_uid():
            self.checkpoints.set("last_uid", str(uid))

    # -- fetching -------------------------------------------------------------------------------

    def _pending_uids(self) -> list[int]:
        """Every UID in the folder not yet marked processed, lowest first."""
        uids = sorted(self._client.search(["UNKEYWORD", PROCESSED_KEYWORD]))
        last_uid = self._last_uid()
        unfinished = sum(1 for uid in uids if uid <= last_uid)
        log.info("IMAP %s: %d new, %d fetched before but not done", self.name, len(uids) - unfinished, unfinished)
        return uids

    def _fetch_batch(self, uids: list[int]) -> list[RawItem]:
        response = self._client.fetch(uids, FETCH_PARTS)
        items = [self._item(uid, response[uid]) for uid in uids if uid in response]
        log.info("IMAP %s: fetched %d messages, UIDs %s..%s", self.name, len(items), uids[0], uids[-1])
        return items

    def _item(self, uid: int, data: dict) -> RawItem:
        return RawItem(
            source=self.name,
            kind="email",
            natural_key=f"{self._uidvalidity}:{uid}",
            raw=data[b"BODY[]"],
            received_at=_as_utc(data[b"INTERNALDATE"]),
            details={"uid": uid, "uidvalidity": self._uidvalidity},
        )

    # -- marking processed ----------------------------------------------------------------------

    def _mark_processed(self, uids: list[int], uidvalidity: int) -> None:
        if uidvalidity != self._uidvalidity:
            log.warning("IMAP %s: %d UIDs belong to UIDVALIDITY %s, not %s; left alone", self.name, len(uids),
                        uidvalidity, self._uidvalidity)
            return
        self._move_or_flag(uids)

    def _move_or_flag(self, uids: list[int]) -> None:
        """One command for the batch; a UID no longer in the folder is passed over by the server."""
        client, target = self._client, self.settings.processed_folder
        if client.has_capability("MOVE"):
            self._ensure_processed_folder()
            client.move(uids, target)
        elif client.has_capability("UIDPLUS"):
            self._ensure_processed_folder()
            client.copy(uids, target)
            client.add_flags(uids, [DELETED], silent=True)
            client.uid_expunge(uids)
        else:
            client.add_flags(uids, [SEEN, PROCESSED_KEYWORD], silent=True)
        log.info("IMAP %s: UIDs %s..%s (%d) marked processed", self.name, uids[0], uids[-1], len(uids))

    def _ensure_processed_folder(self) -> None:
        folder = self.settings.processed_folder
        if not self._processed_folder_known and not self._client.folder_exists(folder):
            log.info("IMAP %s: creating folder %r", self.name, folder)
            self._client.create_folder(folder)
        self._processed_folder_known = True


def _new_mail(responses) -> bool:
    """Whether untagged responses (``(number, b"EXISTS")`` ...) announce new mail."""
    return any(isinstance(response, tuple) and len(response) > 1 and response[1] in NEW_MAIL
               for response in responses or ())


def _as_utc(moment: dt.datetime) -> dt.datetime:
    """INTERNALDATE as an aware UTC datetime (a naive one is taken to be UTC already)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)


def _quietly_logout(client: IMAPClient) -> None:
    try:
        client.logout()
    except CONNECTION_ERRORS:
        _quietly_shutdown(client)


def _quietly_shutdown(client: IMAPClient) -> None:
    try:
        client.shutdown()
    except CONNECTION_ERRORS:
        pass
