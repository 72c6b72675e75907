"""The console: people's pages under /console (each module adds its routes to `bp`)."""

from feedbackvault.web.console import account_views, request_views
from feedbackvault.web.console.blueprint import bp

__all__ = ["account_views", "bp", "request_views"]
