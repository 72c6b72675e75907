"""Define the errors raised by the crypto package."""


class CryptoError(Exception):
    """Signal a cryptographic failure; messages never carry key material or plaintext."""


class DecryptionFailed(CryptoError):
    """Signal that a ciphertext or wrapped key did not open."""


class KeyNotFound(CryptoError):
    """Signal that a named key is not held by the key provider."""


class KeyProviderError(CryptoError):
    """Signal that a key provider is misconfigured or cannot perform the operation."""
