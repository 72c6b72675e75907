"""Data-subject requests for privacy officers."""
