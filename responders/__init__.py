"""Acknowledgement selection and rendering, the outbox, the SMTP sender, letter PDFs."""
