"""Endpoints for analysts: anonymised aggregates and scores."""
