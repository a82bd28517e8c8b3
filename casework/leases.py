"""Leases: one worker at a time polls each source and runs the clocks and the print batch.

A lease is a row in ``leases`` naming its holder (``core.workers.worker_id()``) and when it expires.
Any number of workers may run; for each named job only the holder does it. Invariants:

- Taking, renewing and taking over are each ONE atomic statement (an insert that, on a conflicting
  name, updates the row only where it is this worker's or has expired, returning the row only when it
  did), so two workers racing for a lease never both get it, on SQLite or PostgreSQL.
- On PostgreSQL the moments are the database's clock, so workers on several machines agree on when a
  lease expires whatever their own clocks say; on SQLite (one machine) they are this process's clock.
- A holder that stops renewing (killed, hung, cut off from the database) loses the lease
  ``[workers] lease_seconds`` after its last renewal; one that is a dead process on this host loses it
  at once (a compare-and-set on the dead holder's id, so only one worker takes it over).
- This process believes it still holds a lease for at most a third of the lease time after its last
  successful renewal (``keep``) without asking the database again, and it counts that time from before
  the renewal's statement was sent: it can never act on a lease that has already expired.

What the holder does is for the caller (scheduler.py); nothing here knows what a source is.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from casework.models import Lease, utcnow
from core.db import Database
from core.logs import describe
from core.workers import dead_local_worker, worker_id

log = logging.getLogger(__name__)

CLOCKS = "clocks"
PRINT_BATCH = "print-batch"


def renewal_seconds(lease_seconds: float) -> float:
    """How often a holder renews its lease, and another worker tries for it: three chances before it
    runs out."""
    return lease_seconds / 3


def source_lease(source_name: str) -> str:
    """The lease that lets one worker poll the named source (a mailbox, a Maildir, the letters folder)."""
    return f"source:{source_name}"


class Leases:
    """This worker's leases on one database. Safe to use from several threads."""

    def __init__(self, db: Database, seconds: float, holder: str | None = None) -> None:
        self.db = db
        self.seconds = seconds
        self.holder = holder or worker_id()
        self._renewed: dict[str, float] = {}  # name -> time.monotonic() just before its last renewal
        self._lock = threading.Lock()

    @property
    def renew_every(self) -> float:
        return renewal_seconds(self.seconds)

    def hold(self, name: str) -> bool:
        """Take the lease, or renew it if this worker holds it; False while another live worker does."""
        before = time.monotonic()
        held = self._take_or_renew(name) or self._take_from_dead_holder(name)
        with self._lock:
            if held:
                self._renewed[name] = before
            elif self._renewed.pop(name, None) is not None:
                log.warning("lease %s lost: another worker holds it now", name)
        return held

    def keep(self, name: str) -> bool:
        """``hold``, without a round trip to the database while the last renewal is fresh."""
        with self._lock:
            renewed = self._renewed.get(name)
        if renewed is not None and time.monotonic() - renewed < self.renew_every:
            return True
        return self.hold(name)

    def holds(self) -> list[str]:
        """The leases this worker believes it holds (renewed within the lease time)."""
        now = time.monotonic()
        with self._lock:
            return sorted(name for name, renewed in self._renewed.items() if now - renewed < self.seconds)

    def renew_held(self) -> None:
        """The heartbeat: renew every lease this worker holds (a lost one is dropped and logged)."""
        for name in self.holds():
            try:
                self.hold(name)
            except Exception as exc:  # noqa: BLE001 - the database may be down; the next beat tries again
                log.error("could not renew lease %s: %s", name, describe(exc))

    def release(self, name: str) -> None:
        """Give the lease up now, so another worker takes it at its next try rather than after expiry."""
        with self._lock:
            self._renewed.pop(name, None)
        with self.db.transaction() as session:
            session.execute(delete(Lease).where(Lease.name == name, Lease.holder == self.holder))

    def release_all(self) -> None:
        """Give up every lease this worker holds (a worker stopping cleanly)."""
        with self._lock:
            self._renewed.clear()
        with self.db.transaction() as session:
            session.execute(delete(Lease).where(Lease.holder == self.holder))

    # -- the statements -------------------------------------------------------------------------

    def _moments(self):
        """Now and this renewal's expiry: the database's clock on PostgreSQL, ours on SQLite."""
        if self.db.is_postgresql:
            now = func.now()  # the transaction's start: the statement is its own transaction
            return now, now + dt.timedelta(seconds=self.seconds)
        now = utcnow()
        return now, now + dt.timedelta(seconds=self.seconds)

    def _take_or_renew(self, name: str) -> bool:
        """One statement: insert the lease, or update it where it is ours or has expired."""
        now, expires = self._moments()
        insert = (postgresql.insert if self.db.is_postgresql else sqlite.insert)(Lease)
        statement = insert.values(name=name, holder=self.holder, acquired_at=now, renewed_at=now,
                                  expires_at=expires)
        ours = Lease.holder == self.holder
        statement = statement.on_conflict_do_update(
            index_elements=[Lease.name],
            set_={"holder": statement.excluded.holder, "renewed_at": statement.excluded.renewed_at,
                  "expires_at": statement.excluded.expires_at,
                  "acquired_at": case((ours, Lease.acquired_at), else_=statement.excluded.acquired_at)},
            where=ours | (Lease.expires_at < now),
        ).returning(Lease.holder)
        with self.db.transaction() as session:
            taken = session.execute(statement).first() is not None
        with self._lock:
            if taken and name not in self._renewed:
                log.info("lease %s taken by this worker (%s)", name, self.holder)
        return taken

    def _take_from_dead_holder(self, name: str) -> bool:
        """Take over at once from a holder that is a process on this host which no longer exists."""
        with self.db.sessions() as session:
            holder = session.scalar(select(Lease.holder).where(Lease.name == name))
        if holder is None or not dead_local_worker(holder):
            return False
        now, expires = self._moments()
        with self.db.transaction() as session:
            taken = session.execute(
                update(Lease).where(Lease.name == name, Lease.holder == holder)
                .values(holder=self.holder, acquired_at=now, renewed_at=now, expires_at=expires)
                .execution_options(synchronize_session=False)
            ).rowcount == 1
        if taken:
            log.info("lease %s taken over from %s, which has stopped", name, holder)
        return taken


def holders(db: Database) -> dict[str, tuple[str, dt.datetime]]:
    """Each lease's holder and expiry, for people (an expired row is a lease nobody holds)."""
    with db.sessions() as session:
        return {row.name: (row.holder, row.expires_at) for row in session.scalars(select(Lease))}
