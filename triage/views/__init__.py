"""One module per part of the app, each exposing ``routes``; the page templates are in triage/templates."""
