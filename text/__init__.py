"""Text handling below both the parser and the classifier: quoting and reply splitting, decoding."""
