"""Keys for development and the test suite only, imported by dev.py and test.py.

Known to everyone who has the source, so nothing they protect is protected: base.py has no key
at all, and prod.py refuses to start without its own keys or with these
(tests/core/test_settings.py).
"""

DEV_SECRET_KEY = "dev-only-insecure-key-change-me-in-production-0123456789"  # noqa: S105
# A Fernet key (32 bytes, URL-safe base64) spelling "dev-only-key-not-for-production-".
DEV_FIELD_ENCRYPTION_KEY = "ZGV2LW9ubHkta2V5LW5vdC1mb3ItcHJvZHVjdGlvbi0="
# The audit chain's actor digests (circlework.core.audit.actor_digest).
DEV_AUDIT_DIGEST_KEY = "dev-only-audit-digest-key-not-for-production"
