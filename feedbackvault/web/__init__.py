"""The web pages of the service: API docs, console and privacy centre."""
