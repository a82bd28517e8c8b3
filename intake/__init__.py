"""Sources (IMAP, Maildir, scanned letters) and pure reading: parsing, auto-reply detection, dedupe keys."""
