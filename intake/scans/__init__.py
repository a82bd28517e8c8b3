"""Scanned letters: the folder source, OCR, and reading the letter's text into a ParsedMessage."""
