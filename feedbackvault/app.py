"""Compose the service: settings, stores, keys, policies, services and blueprints."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

from feedbackvault import web
from feedbackvault.api import addresses, limits, request_log, security_headers
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
from feedbackvault.crypto.errors import KeyNotFound
from feedbackvault.crypto.keys import FileKeyProvider, KeyProvider
from feedbackvault.crypto.signing import ReceiptSigner
from feedbackvault.domain.clock import Clock, SystemClock
from feedbackvault.domain.purposes import PolicySet
from feedbackvault.policies.loader import load_policy_set
from feedbackvault.services.accounts import AccountService
from feedbackvault.services.collection import CollectionService
from feedbackvault.services.key_rotation import KeyRotationService
from feedbackvault.services.maintenance import MaintenanceService
from feedbackvault.services.orphan_keys import OrphanKeyCollector
from feedbackvault.services.releases import ReleaseService
from feedbackvault.services.reporting import ReportingService
from feedbackvault.services.retention import RetentionService
from feedbackvault.services.subject_keys import SubjectKeys
from feedbackvault.services.subject_rights import SubjectRightsService
from feedbackvault.services.tokens import TokenService
from feedbackvault.settings import Settings
from feedbackvault.storage.database import UNAVAILABLE_ERRORS, Databases
from feedbackvault.storage.units import Stores

logger = logging.getLogger("feedbackvault.app")
# How long `/readyz` trusts its last look at which KEKs wrap stored data keys.
KEK_CHECK_SECONDS = 30.0


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
    releases: ReleaseService
    reporting: ReportingService
    retention: RetentionService
    subject_rights: SubjectRightsService
    maintenance: MaintenanceService
    accounts: AccountService
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
        clock = clock or SystemClock()
        policies = load_policy_set(settings.policies_dir)
        databases = databases or Databases.from_urls(settings.database_url, settings.keystore_url)
        provider = key_provider or make_key_provider(settings)
        stores = Stores(databases)
        subject_keys = SubjectKeys(provider, BlindIndex(provider.blind_index_key()), clock)
        signer = ReceiptSigner(provider.signing_key())
        key_rotation = KeyRotationService(
            stores, provider, clock, grace=settings.kek_grace, rotation=settings.kek_rotation
        )
        retention = RetentionService(stores, policies, clock)
        orphan_keys = OrphanKeyCollector(stores, clock)
        releases = ReleaseService(stores, policies, clock)
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
            key_rotation=key_rotation,
            orphan_keys=orphan_keys,
            releases=releases,
            reporting=ReportingService(stores, policies, clock, releases),
            retention=retention,
            subject_rights=SubjectRightsService(
                stores, policies, subject_keys, clock, final_by=key_rotation.final_by
            ),
            maintenance=MaintenanceService(policies, retention, orphan_keys, key_rotation),
            accounts=AccountService(stores, clock),
        )

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
    api.register_blueprint(health_bp)
    problems_module.init_app(app)
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
