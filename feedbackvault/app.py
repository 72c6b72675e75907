"""Compose the service: settings, stores, keys, policies, services and blueprints."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

from feedbackvault.crypto.keys import FileKeyProvider, KeyProvider
from feedbackvault.domain.clock import Clock, SystemClock
from feedbackvault.domain.purposes import PolicySet
from feedbackvault.policies.loader import load_policy_set
from feedbackvault.settings import Settings
from feedbackvault.storage.database import Databases
from feedbackvault.storage.units import Stores

if TYPE_CHECKING:
    from flask import Flask

    from feedbackvault.crypto.signing import ReceiptSigner
    from feedbackvault.services.accounts import AccountService
    from feedbackvault.services.collection import CollectionService
    from feedbackvault.services.follow_up import FollowUpService
    from feedbackvault.services.key_rotation import KeyRotationService
    from feedbackvault.services.maintenance import MaintenanceService
    from feedbackvault.services.orphan_keys import OrphanKeyCollector
    from feedbackvault.services.privacy_centre import PrivacyCentreService
    from feedbackvault.services.releases import ReleaseService
    from feedbackvault.services.reminders import ReminderService
    from feedbackvault.services.reporting import ReportingService
    from feedbackvault.services.retention import RetentionService
    from feedbackvault.services.smtp_mailer import SmtpMailer
    from feedbackvault.services.subject_keys import SubjectKeys
    from feedbackvault.services.subject_rights import SubjectRightsService
    from feedbackvault.services.tokens import TokenService

logger = logging.getLogger("feedbackvault.app")
# How long `/readyz` trusts its last look at which KEKs wrap stored data keys.
KEK_CHECK_SECONDS = 30.0


def make_key_provider(settings: Settings) -> KeyProvider:
    """Build the configured key provider."""
    if settings.key_provider == "env":
        from feedbackvault.crypto.env_keys import EnvKeyProvider

        return EnvKeyProvider(settings.environ)
    return FileKeyProvider(settings.keys_dir)


def make_mailer(settings: Settings, policies: PolicySet) -> SmtpMailer | None:
    """Build the privacy centre's mailer, or None when no SMTP server is configured."""
    if settings.smtp_url is None:
        return None
    from feedbackvault.services.smtp_mailer import SmtpMailer, SmtpServer

    controller = policies.controller
    sender = settings.mail_from or (controller.contact if controller else "privacy@localhost")
    return SmtpMailer(SmtpServer.from_url(settings.smtp_url), sender)


@dataclass
class Services:
    """Every use case of the service, composed once per process.

    Settings, stores, policies and keys are built (and so checked) at once; each use
    case is built, and its module imported, on first use. A command that lists tokens
    then loads neither the crypto of a submission nor the sweep: the CLI starts in a
    fraction of the time. A test may set a use case on a copy (`copy.copy`).
    """

    settings: Settings
    clock: Clock
    databases: Databases
    stores: Stores
    policies: PolicySet
    key_provider: KeyProvider
    # When the KEKs in use were last found held, and whether they were (`ready`).
    _kek_check: tuple[float, bool] | None = field(default=None, repr=False)

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        clock: Clock | None = None,
        databases: Databases | None = None,
        key_provider: KeyProvider | None = None,
    ) -> Services:
        """Compose the services from settings; tests may pass a clock or stores."""
        policies = load_policy_set(settings.policies_dir)
        databases = databases or Databases.from_urls(settings.database_url, settings.keystore_url)
        return cls(
            settings=settings,
            clock=clock or SystemClock(),
            databases=databases,
            stores=Stores(databases),
            policies=policies,
            key_provider=key_provider or make_key_provider(settings),
        )

    @cached_property
    def subject_keys(self) -> SubjectKeys:
        """Open and create subjects' data keys, found through the blind index."""
        from feedbackvault.crypto.blind_index import BlindIndex
        from feedbackvault.services.subject_keys import SubjectKeys

        index = BlindIndex(self.key_provider.blind_index_key())
        return SubjectKeys(self.key_provider, index, self.clock)

    @cached_property
    def signer(self) -> ReceiptSigner:
        """Sign consent receipts."""
        from feedbackvault.crypto.signing import ReceiptSigner

        return ReceiptSigner(self.key_provider.signing_key())

    @cached_property
    def collection(self) -> CollectionService:
        """Store responses and withdraw consents."""
        from feedbackvault.services.collection import CollectionService

        return CollectionService(
            self.stores, self.policies, self.subject_keys, self.signer, self.clock
        )

    @cached_property
    def tokens(self) -> TokenService:
        """Create, list, revoke and check API tokens."""
        from feedbackvault.services.tokens import TokenService

        return TokenService(self.stores, self.clock)

    @cached_property
    def key_rotation(self) -> KeyRotationService:
        """Rotate the key-encryption key."""
        from feedbackvault.services.key_rotation import KeyRotationService

        return KeyRotationService(
            self.stores,
            self.key_provider,
            self.clock,
            grace=self.settings.kek_grace,
            rotation=self.settings.kek_rotation,
        )

    @cached_property
    def orphan_keys(self) -> OrphanKeyCollector:
        """Shred keys of subjects that own no data."""
        from feedbackvault.services.orphan_keys import OrphanKeyCollector

        return OrphanKeyCollector(self.stores, self.clock)

    @cached_property
    def releases(self) -> ReleaseService:
        """Release closed days as frozen, differentially private cells."""
        from feedbackvault.services.releases import ReleaseService

        return ReleaseService(self.stores, self.policies, self.clock)

    @cached_property
    def reporting(self) -> ReportingService:
        """Answer analysts from the releases."""
        from feedbackvault.services.reporting import ReportingService

        return ReportingService(self.stores, self.policies, self.clock, self.releases)

    @cached_property
    def retention(self) -> RetentionService:
        """Sweep what has expired."""
        from feedbackvault.services.retention import RetentionService

        return RetentionService(self.stores, self.policies, self.clock)

    @cached_property
    def subject_rights(self) -> SubjectRightsService:
        """Answer data-subject requests."""
        from feedbackvault.services.subject_rights import SubjectRightsService

        return SubjectRightsService(
            self.stores,
            self.policies,
            self.subject_keys,
            self.clock,
            final_by=self.key_rotation.final_by,
        )

    @cached_property
    def follow_up(self) -> FollowUpService:
        """List responses whose purpose allows follow-up, and record them handled."""
        from feedbackvault.services.follow_up import FollowUpService

        return FollowUpService(self.stores, self.policies, self.subject_keys, self.clock)

    @cached_property
    def maintenance(self) -> MaintenanceService:
        """Run the scheduled job: sweep, key collection, KEK rotation and destruction."""
        from feedbackvault.services.maintenance import MaintenanceService

        return MaintenanceService(
            self.policies,
            self.retention,
            self.orphan_keys,
            self.key_rotation,
            self.releases,
            self.reminders,
        )

    @cached_property
    def reminders(self) -> ReminderService:
        """Remind privacy officers of requests due soon, once a day."""
        from feedbackvault.services.reminders import ReminderService

        return ReminderService(
            self.stores,
            self.accounts,
            self.subject_rights,
            self.clock,
            mailer=make_mailer(self.settings, self.policies),
            public_url=self.settings.public_url,
        )

    @cached_property
    def accounts(self) -> AccountService:
        """Manage people's console accounts."""
        from feedbackvault.services.accounts import AccountService

        return AccountService(self.stores, self.clock)

    @cached_property
    def privacy_centre(self) -> PrivacyCentreService:
        """Take respondents' requests confirmed by e-mailed links, and mail their outcome."""
        from limits.storage import Storage, storage_from_string

        from feedbackvault.services.privacy_centre import PrivacyCentreService

        return PrivacyCentreService(
            self.stores,
            self.policies,
            self.subject_keys,
            self.subject_rights,
            self.clock,
            mailer=make_mailer(self.settings, self.policies),
            public_url=self.settings.public_url,
            limiter_storage=cast(Storage, storage_from_string(self.settings.rate_limit_storage)),
            limit_per_address=self.settings.privacy_limit_per_address,
            limit_per_client=self.settings.privacy_limit_per_client,
        )

    def subscribe_listeners(self) -> None:
        """Build the use cases that react to others, so that no event finds nobody listening."""
        # The privacy centre e-mails the outcome of every request that closes.
        self.privacy_centre  # noqa: B018 - building it subscribes it

    def ready(self) -> bool:
        """Tell whether the databases answer, the active key opens and every KEK in use is held."""
        try:
            self.key_provider.active_kek()
        except Exception:
            return False
        return self.databases.ping() and self._keks_held()

    def _keks_held(self) -> bool:
        """Tell whether every KEK that wraps a stored data key is held, asked at most every 30 s.

        A key store restored from before a destroyed KEK holds data keys nobody can open:
        not ready. The question scans the key table, so its answer is kept briefly.
        """
        now = time.monotonic()
        if self._kek_check is None or now - self._kek_check[0] > KEK_CHECK_SECONDS:
            try:
                held = not self.key_rotation.missing_keks()
            except Exception:
                return False
            self._kek_check = (now, held)
        return self._kek_check[1]

    def purposes_view(self) -> list[dict[str, Any]]:
        """Describe every purpose for `GET /purposes`."""
        return [
            {
                "id": p.id,
                "description": p.description,
                "legal_basis": p.legal_basis,
                "notice_version": p.notice_versions[-1],
                "notice_versions": list(p.notice_versions),
                "retention": p.retention.text,
                "consent_retention": p.consent_retention.text,
                "personal_fields": sorted(p.personal_fields),
                "metrics": sorted(p.metrics),
                "aggregate": p.aggregate,
                "on_expiry": p.on_expiry,
            }
            for p in self.policies.ordered()
        ]


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> Flask:
    """Create the Flask app; nothing is built at import time."""
    # The web framework and the views load here, not with the module: the command
    # line composes the services from this module and has no use for them.
    from flask import Flask

    from feedbackvault import web
    from feedbackvault.api import addresses, limits, request_log, security_headers
    from feedbackvault.api import problems as problems_module
    from feedbackvault.api.analytics.views import blp as analytics_blp
    from feedbackvault.api.blueprint import Api, openapi_config
    from feedbackvault.api.collect.views import blp as collect_blp
    from feedbackvault.api.context import EXTENSION_KEY
    from feedbackvault.api.follow_up.views import blp as follow_up_blp
    from feedbackvault.api.health import bp as health_bp
    from feedbackvault.api.meta.views import blp as meta_blp
    from feedbackvault.api.privacy.views import blp as privacy_blp
    from feedbackvault.web import docs as web_docs

    settings = settings or (services.settings if services else Settings.from_env())
    services = services or Services.build(settings)
    services.subscribe_listeners()
    request_log.configure_logging(settings.log_level)

    app = Flask("feedbackvault")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    openapi_config(app)
    app.extensions[EXTENSION_KEY] = services

    api = Api(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.register_blueprint(meta_blp)
    api.register_blueprint(collect_blp)
    api.register_blueprint(privacy_blp)
    api.register_blueprint(analytics_blp)
    api.register_blueprint(follow_up_blp)
    api.register_blueprint(health_bp)
    app.register_blueprint(web_docs.bp)
    problems_module.init_app(app)
    from feedbackvault.crypto.errors import KeyNotFound
    from feedbackvault.storage.database import UNAVAILABLE_ERRORS

    # A data key wrapped under a KEK no longer held (a key store restored from too long
    # ago) cannot be served: 503 as for an unreachable store, never a 500.
    for error in (*UNAVAILABLE_ERRORS, KeyNotFound):
        app.register_error_handler(error, problems_module.unavailable_problem)
    request_log.init_app(app)
    limits.init_app(app, settings)
    addresses.init_app(app)
    security_headers.init_app(app, settings)
    web.init_app(app, settings, api.handle_http_exception)
    return app
