"""`intake migrate`: bring the database to the code's schema (issue 16; owned by the deployment work)."""

from __future__ import annotations


def add_parser(commands) -> None:
    """Registers nothing yet: the deployment work adds `intake migrate` here."""
