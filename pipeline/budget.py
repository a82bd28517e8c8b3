"""The time budget for reading one message: the backstop behind bounded work by construction.

Every pattern applied to a resident's text runs in time proportional to its length, over bounded text
(text.quoting, classifier.text); this is for what is not (a library's quadratic loop, a case nobody
foresaw). ``time_budget`` wraps only the reading of a message (parsing, the quoting rules, classifying:
pure Python and regular expressions), never database work, so the exception it raises can never land
inside a database driver's call.
"""

from __future__ import annotations

import ctypes
import signal
import threading
from contextlib import contextmanager
from typing import Iterator


class OverBudget(BaseException):
    """Raised into a message's processing when its time budget runs out. A BaseException, so no
    ``except Exception`` in the pipeline (which survives bad input by catching) can swallow it."""


@contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Raise OverBudget inside the block once ``seconds`` have passed (0: no budget).

    The first guarantee is by construction: every pattern applied to a resident's text runs in time
    proportional to its length, over bounded text (text.quoting, classifier.text). This is the backstop
    for what is not (a library's quadratic loop, a case nobody foresaw). In the main thread (the worker,
    ``intake run``) it is SIGALRM, which interrupts even one long regex match (the regex engine checks
    for signals). In another thread (a scheduler's job, the staff app's "process now") signals cannot
    be used; a timer thread raises OverBudget asynchronously in this thread, which takes effect at its
    next Python bytecode: a pure-Python loop is interrupted, a single long call into C is not.
    Either way the exception can only be raised inside the block: the timer is disarmed before it ends.
    """
    if seconds <= 0:
        yield
        return
    if threading.current_thread() is threading.main_thread():
        with _alarm(seconds):
            yield
    else:
        with _thread_timer(seconds):
            yield


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    armed = True

    def on_alarm(signum, frame):
        if armed:
            raise OverBudget()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        armed = False
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def _thread_timer(seconds: float) -> Iterator[None]:
    target = ctypes.c_ulong(threading.get_ident())
    lock = threading.Lock()
    state = {"armed": True}

    def expire() -> None:
        with lock:
            if state["armed"]:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(target, ctypes.py_object(OverBudget))

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with lock:
            state["armed"] = False
        timer.cancel()
