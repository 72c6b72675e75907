"""Encrypt, index and sign personal data with keys handed in by the caller."""
