"""Persist the domain in SQL databases (the only package that knows SQLAlchemy)."""
