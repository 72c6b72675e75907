"""Compose the service: settings, stores, keys, policies, services and blueprints."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import Flask

from feedbackvault import web
from feedbackvault.api import limits, request_log, security_headers
from feedbackvault.api import problems as problems_module
from feedbackvault.api.analytics.views import blp as analytics_blp
from feedbackvault.api.blueprint import Api, openapi_config
from feedbackvault.api.collect.views import blp as collect_blp
from feedbackvault.api.context import EXTENSION_KEY
from feedbackvault.api.health import bp as health_bp
from feedbackvault.api.meta.views import blp as meta_blp
from feedbackvault.api.privacy.views import blp as privacy_blp
from feedbackvault.crypto.blind_index import BlindIndex
from feedbackvault.crypto.env_keys import EnvKeyProvider
from feedbackvault.crypto.keys import FileKeyProvider, KeyProvider
from feedbackvault.crypto.signing import ReceiptSigner
from feedbackvault.domain.clock import Clock, SystemClock
from feedbackvault.domain.purposes import PolicySet
from feedbackvault.policies.loader import load_policy_set
from feedbackvault.services.accounts import AccountService
from feedbackvault.services.collection import CollectionService
from feedbackvault.services.key_rotation import KeyRotationService
from feedbackvault.services.orphan_keys import OrphanKeyCollector
from feedbackvault.services.reporting import ReportingService
from feedbackvault.services.retention import RetentionService
from feedbackvault.services.subject_keys import SubjectKeys
from feedbackvault.services.subject_rights import SubjectRightsService
from feedbackvault.services.tokens import TokenService
from feedbackvault.settings import Settings
from feedbackvault.storage.database import UNAVAILABLE_ERRORS, Databases
from feedbackvault.storage.units import Stores

logger = logging.getLogger("feedbackvault.app")


def make_key_provider(settings: Settings) -> KeyProvider:
    """Build the configured key provider."""
    if settings.key_provider == "env":
        return EnvKeyProvider(settings.environ)
    return FileKeyProvider(settings.keys_dir)


@dataclass
class Services:
    """Every use case of the service, composed once per process."""

    settings: Settings
    clock: Clock
    databases: Databases
    stores: Stores
    policies: PolicySet
    key_provider: KeyProvider
    subject_keys: SubjectKeys
    signer: ReceiptSigner
    collection: CollectionService
    tokens: TokenService
    key_rotation: KeyRotationService
    orphan_keys: OrphanKeyCollector
    reporting: ReportingService
    retention: RetentionService
    subject_rights: SubjectRightsService
    accounts: AccountService

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
        clock = clock or SystemClock()
        policies = load_policy_set(settings.policies_dir)
        databases = databases or Databases.from_urls(settings.database_url, settings.keystore_url)
        provider = key_provider or make_key_provider(settings)
        stores = Stores(databases)
        subject_keys = SubjectKeys(provider, BlindIndex(provider.blind_index_key()), clock)
        signer = ReceiptSigner(provider.signing_key())
        return cls(
            settings=settings,
            clock=clock,
            databases=databases,
            stores=stores,
            policies=policies,
            key_provider=provider,
            subject_keys=subject_keys,
            signer=signer,
            collection=CollectionService(stores, policies, subject_keys, signer, clock),
            tokens=TokenService(stores, clock),
            key_rotation=KeyRotationService(stores, provider, clock),
            orphan_keys=OrphanKeyCollector(stores, clock),
            reporting=ReportingService(stores, policies, clock),
            retention=RetentionService(stores, policies, clock),
            subject_rights=SubjectRightsService(stores, policies, subject_keys, clock),
            accounts=AccountService(stores, clock),
        )

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
    for error in UNAVAILABLE_ERRORS:
        app.register_error_handler(error, problems_module.unavailable_problem)
    request_log.init_app(app)
    limits.init_app(app, settings)
    security_headers.init_app(app, settings)
    web.init_app(app, settings, api.handle_http_exception)
    return app
