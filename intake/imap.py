"""The IMAP source: fetch a folder's messages by UID and move each to a processed folder when done.

Where it got to is two checkpoints: ``uidvalidity`` and ``last_uid`` (the highest UID told done).
Every fetch yields every message still in the folder and not yet marked processed, lowest UID first:
new ones (above ``last_uid``) and any fetched before whose ``done()`` never came (after a crash).
The runner recognises the natural key ``"uidvalidity:uid"`` of those and just calls ``done()``.
If UIDVALIDITY changes the UIDs mean nothing any more: ``last_uid`` is forgotten and the folder is
read again; the pipeline dedupes on the natural key and the Message-ID, so that is safe.

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
from core.settings import ImapSourceSettings
from intake.items import RawItem

log = logging.getLogger(__name__)

BATCH_SIZE = 50
PROCESSED_KEYWORD = "$IntakeProcessed"
FETCH_PARTS = [b"BODY.PEEK[]", b"INTERNALDATE"]
# What a dropped or broken connection looks like; LoginError is handled before these.
CONNECTION_ERRORS = (OSError, socket.timeout, imaplib.IMAP4.abort, IMAPClientError)

T = TypeVar("T")


class ImapSource:
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

    # -- the Source protocol ----------------------------------------------------------------

    def fetch(self) -> Iterator[RawItem]:
        uids = self._with_retry("list messages", self._pending_uids)
        for start in range(0, len(uids), BATCH_SIZE):
            batch = uids[start : start + BATCH_SIZE]
            yield from self._with_retry("fetch messages", lambda: self._fetch_batch(batch))

    def done(self, item: RawItem) -> None:
        uid, uidvalidity = item.details["uid"], item.details["uidvalidity"]
        self._with_retry("mark a message processed", lambda: self._mark_processed(uid, uidvalidity))
        self._advance_last_uid(uid, uidvalidity)

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            _quietly_logout(client)

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
            client.login(s.username, s.password)
        except LoginError as exc:
            _quietly_logout(client)
            raise SourceUnavailable(f"login failed for {s.username} on {s.host}:{s.port}") from exc
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

    def _mark_processed(self, uid: int, uidvalidity: int) -> None:
        if uidvalidity != self._uidvalidity:
            log.warning("IMAP %s: UID %s belongs to UIDVALIDITY %s, not %s; left alone", self.name, uid, uidvalidity, self._uidvalidity)
            return
        if not self._client.search(["UID", str(uid)]):
            log.info("IMAP %s: UID %s already gone from the folder", self.name, uid)
            return
        self._move_or_flag(uid)

    def _move_or_flag(self, uid: int) -> None:
        client, target = self._client, self.settings.processed_folder
        if client.has_capability("MOVE"):
            self._ensure_processed_folder()
            client.move([uid], target)
        elif client.has_capability("UIDPLUS"):
            self._ensure_processed_folder()
            client.copy([uid], target)
            client.add_flags([uid], [DELETED], silent=True)
            client.uid_expunge([uid])
        else:
            client.add_flags([uid], [SEEN, PROCESSED_KEYWORD], silent=True)
        log.info("IMAP %s: UID %s marked processed", self.name, uid)

    def _ensure_processed_folder(self) -> None:
        folder = self.settings.processed_folder
        if not self._processed_folder_known and not self._client.folder_exists(folder):
            log.info("IMAP %s: creating folder %r", self.name, folder)
            self._client.create_folder(folder)
        self._processed_folder_known = True


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
