"""feedbackvault: a consented, encrypted, retention-enforced store for customer feedback."""

__version__ = "0.1.0"
