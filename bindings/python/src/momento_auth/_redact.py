"""Redaction of secrets for repr() and logs, in the same shape the C library uses."""

from __future__ import annotations

import hashlib


def redact(secret: str) -> str:
    """At most the first 4 characters (never more than half) and a short SHA-256 fingerprint."""
    if not secret:
        return "<empty>"
    data = secret.encode("utf-8", "surrogatepass")
    shown = min(4, len(secret) // 2)
    head = "".join(c if c.isprintable() else "?" for c in secret[:shown])
    return f"{head}\u2026#{hashlib.sha256(data).hexdigest()[:8]}"
