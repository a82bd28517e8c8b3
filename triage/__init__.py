"""The staff web app: queue, case view, template editor, reports (a later issue)."""
