"""Endpoints any caller may read: purposes and the receipt public key."""
