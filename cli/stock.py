"""`intake stock import FILE`: the landlord's stock list (a CSV of homes), so letters and emails can be
matched to the home they are about, and an OCR-damaged postcode repaired only into one of its postcodes.

The columns are casework.properties.STOCK_COLUMNS. The import is one transaction: a bad row is one
line on stderr naming its line, exit status 2, and nothing is imported. Rows are keyed by UPRN, so
importing the same file again changes nothing.
"""

from __future__ import annotations

from pathlib import Path

from core.errors import IntakeError
from core.settings import Settings


def add_parser(commands) -> None:
    stock = commands.add_parser("stock", help="the landlord's stock list (homes) for matching messages to homes")
    actions = stock.add_subparsers(required=True, metavar="ACTION")
    load = actions.add_parser("import", help="add or update homes from a CSV (by UPRN; all rows or none)")
    load.add_argument("file", type=Path, help="CSV with columns uprn,address_1,address_2,address_3,town,postcode,"
                                              "tenancy_ref,tenant_names")
    load.set_defaults(handler=_import)


def _import(args, settings: Settings) -> int:
    from casework.properties import StockError, import_stock, read_stock
    from core.db import Database

    try:
        text = args.file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise IntakeError(f"{args.file}: cannot be read as UTF-8 text ({exc.__class__.__name__})") from None
    try:
        rows = read_stock(text)
    except StockError as exc:
        raise IntakeError(f"{args.file}: {exc}; nothing imported") from None
    db = Database(settings.resolved_database_url)
    db.migrate()
    try:
        with db.transaction() as session:
            result = import_stock(session, rows)
    finally:
        db.engine.dispose()
    print(f"stock list {args.file.name}: {result.added} homes added, {result.updated} updated, "
          f"{result.unchanged} unchanged")
    return 0
