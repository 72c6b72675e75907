"""Units of work over the two stores: one transaction, the repositories bound to it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session

from feedbackvault.storage.account_repository import AccountRepository
from feedbackvault.storage.aggregate_repository import AggregateRepository
from feedbackvault.storage.audit_repository import AuditAppender, AuditRepository
from feedbackvault.storage.bulk import KeyShredRepository
from feedbackvault.storage.collection_repository import (
    ConsentRepository,
    ResponseRepository,
    SubmissionRows,
)
from feedbackvault.storage.database import Databases
from feedbackvault.storage.driver_statements import DriverCursor, driver_cursor
from feedbackvault.storage.key_erasure_repository import KeyErasureRepository
from feedbackvault.storage.key_repository import KeyRepository, KeyRows
from feedbackvault.storage.privacy_repository import PrivacyRequestRepository, PrivacyRequestRows
from feedbackvault.storage.retention_repository import RetentionRepository
from feedbackvault.storage.subject_data_repository import (
    CiphertextSamples,
    ErasureRows,
    ExportRows,
    SubjectDataRepository,
)
from feedbackvault.storage.token_repository import TokenRepository


@dataclass
class DataUnit:
    """One transaction on the data database."""

    session: Session

    def __post_init__(self) -> None:
        self.consents = ConsentRepository(self.session)
        self.responses = ResponseRepository(self.session)
        self.audit = AuditRepository(self.session)
        self.tokens = TokenRepository(self.session)
        self.privacy = PrivacyRequestRepository(self.session)
        self.subject_data = SubjectDataRepository(self.session)
        self.aggregates = AggregateRepository(self.session)
        self.retention = RetentionRepository(self.session)
        self.accounts = AccountRepository(self.session)

    def pipelined(self) -> AbstractContextManager[None]:
        """Send the block's driver statements together, where the driver can (PostgreSQL)."""
        return driver_cursor(self.session).pipeline()

    @property
    def exports(self) -> ExportRows:
        """Page through a subject's exported rows on this transaction's driver cursor."""
        return ExportRows(driver_cursor(self.session))

    @property
    def erasure(self) -> ErasureRows:
        """Erase subjects' data on this transaction's driver cursor."""
        return ErasureRows(driver_cursor(self.session))

    @property
    def samples(self) -> CiphertextSamples:
        """Read sample ciphertexts of subjects on this transaction's driver cursor."""
        return CiphertextSamples(driver_cursor(self.session))

    @property
    def request_rows(self) -> PrivacyRequestRows:
        """Read and change requests on this transaction's driver cursor."""
        return PrivacyRequestRows(driver_cursor(self.session))


@dataclass
class KeyUnit:
    """One transaction on the key store."""

    session: Session

    def __post_init__(self) -> None:
        self.keys = KeyRepository(self.session)
        self.key_erasures = KeyErasureRepository(self.session)
        self.shred = KeyShredRepository(self.session)

    def pipelined(self) -> AbstractContextManager[None]:
        """Send the block's driver statements together, where the driver can (PostgreSQL)."""
        return driver_cursor(self.session).pipeline()


@dataclass
class PipelinedDataUnit:
    """One data transaction on the driver's cursor: a submission, a request's step, a fulfilment."""

    cursor: DriverCursor

    def __post_init__(self) -> None:
        self.rows = SubmissionRows(self.cursor)
        self.requests = PrivacyRequestRows(self.cursor)
        self.audit = AuditAppender(self.cursor)
        self.exports = ExportRows(self.cursor)
        self.erasure = ErasureRows(self.cursor)


@dataclass
class SubmissionKeyUnit:
    """Key-store rows on a driver cursor: a submission's transaction, a claim, a lookup, a shred."""

    cursor: DriverCursor

    def __post_init__(self) -> None:
        self.keys = KeyRows(self.cursor)


@contextmanager
def _committed_in_pipeline(cursor: DriverCursor) -> Iterator[None]:
    """Pipeline the whole block and queue its COMMIT last, where the driver can."""
    with cursor.pipeline():
        yield
        cursor.queue_commit()


class Stores:
    """Open units of work on the data database and the key store."""

    def __init__(self, databases: Databases) -> None:
        self.databases = databases

    @contextmanager
    def data(self) -> Iterator[DataUnit]:
        """Run one transaction on the data database."""
        with self.databases.data() as session:
            yield DataUnit(session)

    @contextmanager
    def read(self) -> Iterator[DataUnit]:
        """Run one read-only transaction on the data database (readers never queue on SQLite)."""
        with self.databases.read() as session:
            yield DataUnit(session)

    @contextmanager
    def read_statements(self) -> Iterator[DataUnit]:
        """Run reads that each need only their own snapshot, such as one row by its key."""
        with self.databases.read_statements() as session:
            yield DataUnit(session)

    @contextmanager
    def keys_read(self) -> Iterator[KeyUnit]:
        """Run one read-only transaction on the key store."""
        with self.databases.keys_read() as session:
            yield KeyUnit(session)

    @contextmanager
    def keys(self) -> Iterator[KeyUnit]:
        """Run one transaction on the key store."""
        with self.databases.keys() as session:
            yield KeyUnit(session)

    @contextmanager
    def pipelined_data(self) -> Iterator[PipelinedDataUnit]:
        """Run one data transaction on the driver's cursor, pipelined with its COMMIT (PostgreSQL).

        On a pooled driver connection rather than a session or a SQLAlchemy Connection
        (`driver_transaction`), for the hot writes whose statements all run on the
        driver's cursor (a submission, a request's creation and verification): those
        layers' begin, commit and close cost ~8% of a submission each (py-spy). The
        COMMIT goes in the pipeline's last round trip.
        """
        with self.databases.data_connection() as lent:
            cursor = DriverCursor(lent.connection, lent.dialect)
            with _committed_in_pipeline(cursor):
                yield PipelinedDataUnit(cursor)

    @contextmanager
    def pipelined_keys(self) -> Iterator[SubmissionKeyUnit]:
        """Run one key-store transaction on a plain connection, pipelined with its COMMIT.

        For a submission's key and an erasure's shredding. A read the code waits for
        costs a round trip; writes go out with the next one.
        """
        with self.databases.keys_connection() as lent:
            cursor = DriverCursor(lent.connection, lent.dialect)
            with _committed_in_pipeline(cursor):
                yield SubmissionKeyUnit(cursor)

    @contextmanager
    def key_claims(self) -> Iterator[SubmissionKeyUnit]:
        """Lend key-store rows for `KeyRows.claim`, a whole transaction per claim.

        On PostgreSQL the claim is one statement in autocommit: one round trip, where a
        transaction of reads and writes costs three and four more statements.
        """
        with self.databases.keys_statements() as lent:
            yield SubmissionKeyUnit(DriverCursor(lent.connection, lent.dialect))

    @contextmanager
    def key_reads(self) -> Iterator[SubmissionKeyUnit]:
        """Lend key-store rows for reads that each need only their own snapshot.

        Each statement is its own transaction (`Databases.keys_reads`): one round trip
        on PostgreSQL where a read-only transaction costs three.
        """
        with self.databases.keys_reads() as lent:
            yield SubmissionKeyUnit(DriverCursor(lent.connection, lent.dialect))

    @property
    def dialect(self) -> str:
        """Name the data database's SQL dialect (`sqlite`, `postgresql`)."""
        return self.databases.data_engine.dialect.name
