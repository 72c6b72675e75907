"""Endpoints for survey front-ends: submit responses, withdraw consent."""
