"""The privacy centre: public pages for respondents under /privacy (no login)."""

from feedbackvault.web.privacy_centre import views
from feedbackvault.web.privacy_centre.views import bp

__all__ = ["bp", "views"]
