"""Sources (IMAP, Maildir, scanned letters), parsing, auto-reply detection, the pipeline runner."""
