"""The console: people's pages under /console.

Adding a page: a module here whose views use `bp` from `blueprint.py` and guard
themselves with `sessions.require_roles(...)` (auditors read, only officers POST),
imported below; a template under `templates/console/` extending `base.html` with
the macros of `macros.html`; its strings through `_()`, then
`tools/translations.sh` and the Dutch text in `translations/nl/.../messages.po`;
its route in the matrix of `tests/web/test_console_access.py`. The navigation in
`base.html` shows `console.audit`, `console.register`, `console.purposes`,
`console.scores` and `console.follow_up` once those endpoints exist.
"""

from feedbackvault.web.console import (
    account_views,
    audit_views,
    follow_up_views,
    purpose_views,
    register_views,
    request_views,
    score_views,
)
from feedbackvault.web.console.blueprint import bp

__all__ = [
    "account_views",
    "audit_views",
    "bp",
    "follow_up_views",
    "purpose_views",
    "register_views",
    "request_views",
    "score_views",
]
