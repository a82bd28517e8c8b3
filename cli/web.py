"""`intake serve` (the staff web app) and `intake user add|disable` (who may sign in)."""

from __future__ import annotations

import getpass
import os

from core.errors import ConfigurationError
from core.settings import Settings


def add_parsers(commands) -> None:
    serve = commands.add_parser("serve", help="the staff web app (uvicorn), on the worker's settings and database")
    serve.add_argument("--host", help="default: [web] host (127.0.0.1)")
    serve.add_argument("--port", type=int, help="default: [web] port (8000)")
    serve.set_defaults(handler=_serve)
    user = commands.add_parser("user", help="people who may sign in to the staff app")
    verbs = user.add_subparsers(required=True, metavar="VERB")
    add = verbs.add_parser("add", help="add a person (password from INTAKE_PASSWORD, else asked for)")
    add.add_argument("email")
    add.add_argument("--role", required=True, choices=("staff", "manager", "admin"))
    add.set_defaults(handler=_user_add)
    disable = verbs.add_parser("disable", help="stop a person signing in; their open sessions end now")
    disable.add_argument("email")
    disable.set_defaults(handler=_user_disable)


def _serve(args, settings: Settings) -> int:
    import uvicorn

    import scheduler
    from triage.app import create_app

    app = create_app(scheduler.build_staff(settings))
    uvicorn.run(app, host=args.host or settings.web.host, port=args.port or settings.web.port,
                log_level=settings.log_level.lower(), access_log=False, proxy_headers=settings.web.behind_proxy)
    return 0


def _user_add(args, settings: Settings) -> int:
    from casework.people import add_user

    password = os.environ.get("INTAKE_PASSWORD") or _ask_password()
    with _db(settings).transaction() as session:
        user = add_user(session, args.email, password, args.role)
        print(f"{user.email} added as {user.role}")
    return 0


def _user_disable(args, settings: Settings) -> int:
    from casework.people import disable_user

    with _db(settings).transaction() as session:
        user = disable_user(session, args.email)
        print(f"{user.email} disabled; their sessions have ended")
    return 0


def _ask_password() -> str:
    try:
        first, second = getpass.getpass("Password: "), getpass.getpass("Again: ")
    except EOFError:
        raise ConfigurationError("no password: set INTAKE_PASSWORD or run this in a terminal") from None
    if first != second:
        raise ConfigurationError("the two passwords differ")
    return first


def _db(settings: Settings):
    from core.db import Database

    db = Database(settings.resolved_database_url)
    db.migrate()
    return db
