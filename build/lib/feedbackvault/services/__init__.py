"""Use cases: collection, subject rights, retention, reporting, and their support."""
