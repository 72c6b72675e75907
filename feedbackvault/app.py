"""Compose the service: settings, stores, keys, policies, services and blueprints."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

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
    from feedbackvault.services.collection import CollectionService
    from feedbackvault.services.key_rotation import KeyRotationService
    from feedbackvault.services.orphan_keys import OrphanKeyCollector
    from feedbackvault.services.reporting import ReportingService
    from feedbackvault.services.retention import RetentionService
    from feedbackvault.services.subject_keys import SubjectKeys
    from feedbackvault.services.subject_rights import SubjectRightsService
    from feedbackvault.services.tokens import TokenService

logger = logging.getLogger("feedbackvault.app")


def make_key_provider(settings: Settings) -> KeyProvider:
    """Build the configured key provider."""
    if settings.key_provider == "env":
        from feedbackvault.crypto.env_keys import EnvKeyProvider

        return EnvKeyProvider(settings.environ)
    return FileKeyProvider(settings.keys_dir)


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

        return KeyRotationService(self.stores, self.key_provider, self.clock)

    @cached_property
    def orphan_keys(self) -> OrphanKeyCollector:
        """Shred keys of subjects that own no data."""
        from feedbackvault.services.orphan_keys import OrphanKeyCollector

        return OrphanKeyCollector(self.stores, self.clock)

    @cached_property
    def reporting(self) -> ReportingService:
        """Release anonymised scores."""
        from feedbackvault.services.reporting import ReportingService

        return ReportingService(self.stores, self.policies, self.clock)

    @cached_property
    def retention(self) -> RetentionService:
        """Sweep what has expired."""
        from feedbackvault.services.retention import RetentionService

        return RetentionService(self.stores, self.policies, self.clock)

    @cached_property
    def subject_rights(self) -> SubjectRightsService:
        """Answer data-subject requests."""
        from feedbackvault.services.subject_rights import SubjectRightsService

        return SubjectRightsService(self.stores, self.policies, self.subject_keys, self.clock)

    def ready(self) -> bool:
        """Tell whether the databases answer and the active key opens."""
        try:
            self.key_provider.active_kek()
        except Exception:
            return False
        return self.databases.ping()

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

    from feedbackvault.api import limits, request_log, security_headers
    from feedbackvault.api import problems as problems_module
    from feedbackvault.api.analytics.views import blp as analytics_blp
    from feedbackvault.api.blueprint import Api, openapi_config
    from feedbackvault.api.collect.views import blp as collect_blp
    from feedbackvault.api.context import EXTENSION_KEY
    from feedbackvault.api.health import bp as health_bp
    from feedbackvault.api.meta.views import blp as meta_blp
    from feedbackvault.api.privacy.views import blp as privacy_blp

    settings = settings or (services.settings if services else Settings.from_env())
    services = services or Services.build(settings)
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
    app.register_blueprint(health_bp)
    problems_module.init_app(app)
    from feedbackvault.storage.database import UNAVAILABLE_ERRORS

    for error in UNAVAILABLE_ERRORS:
        app.register_error_handler(error, problems_module.unavailable_problem)
    request_log.init_app(app)
    limits.init_app(app, settings)
    security_headers.init_app(app, settings)
    return app
