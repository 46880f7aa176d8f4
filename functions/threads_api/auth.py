"""API keys: ``Authorization: Bearer <key>`` (or Portkey's ``x-portkey-api-key``) to a project.

Only a key's SHA-256 is stored. Keys are checked at the edge, by the API's Lambda authorizer
(``handlers/authorizer.py``), never by the operation functions, which read the project from the request
context. A warm authorizer remembers a key's project (and a key it did not find) for ``KEY_CACHE_SECONDS``
(30 s by default): most requests cost no DynamoDB read, and that is the bound within which a revoked key
stops working.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import string
import time

from threads_api import store

KEY_PREFIX = "sk-thr-"
CACHE_SECONDS = float(os.environ.get("KEY_CACHE_SECONDS", "30"))
_CACHE_MAX = 1024
_cache: dict[str, tuple[str, float]] = {}  # key hash -> (project, monotonic expiry)
# Keys not found, remembered apart: a flood of made-up keys must not evict the valid ones, nor cost a read
# each time one is repeated. A key minted later is never in it (48 random characters were never tried).
_MISSES_MAX = 4096
_misses: dict[str, float] = {}  # key hash -> monotonic expiry


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def mint_key() -> str:
    alphabet = string.ascii_letters + string.digits
    return KEY_PREFIX + "".join(secrets.choice(alphabet) for _ in range(48))


def usage_identifier(api_id: str, project: str) -> str:
    """The value of the API Gateway API key that meters ``project`` in the API's usage plan.

    Derived, not stored: the authorizer returns it as ``usageIdentifierKey`` and ``make key`` creates the API
    key with it. It is no secret (the API's key source is the authorizer, so a client's ``x-api-key`` header
    is ignored); the API's id keeps two stacks' projects of one name apart in one account."""
    return "thr" + hashlib.sha256(f"{api_id}/{project}".encode()).hexdigest()[:40]


_HTTP_SPACE = " \t"  # HTTP's optional whitespace; str.strip() alone would also eat Unicode spaces


def key_from_headers(headers: dict[str, str]) -> str | None:
    authorization = headers.get("authorization", "")
    scheme, _, token = authorization.strip(_HTTP_SPACE).partition(" ")
    if scheme.lower() == "bearer" and token.strip(_HTTP_SPACE):
        return token.strip(_HTTP_SPACE)
    portkey = headers.get("x-portkey-api-key", "").strip(_HTTP_SPACE)
    return portkey or None


def project_of(key: str) -> str | None:
    """The project of a valid key, None for a key that is not stored (cached both ways for CACHE_SECONDS)."""
    digest = hash_key(key)
    now = time.monotonic()
    cached = _cache.get(digest)
    if cached is not None and cached[1] > now:
        return cached[0]
    if _misses.get(digest, 0.0) > now:
        return None
    project = store.get_key_project(digest)
    if project is None:
        _cache.pop(digest, None)
        if len(_misses) >= _MISSES_MAX:
            _misses.clear()
        _misses[digest] = now + CACHE_SECONDS
        return None
    if len(_cache) >= _CACHE_MAX:
        _cache.clear()
    _cache[digest] = (project, now + CACHE_SECONDS)
    return project


def create_key(project: str) -> str:
    """Mint a key for ``project``, store its hash, and return the key (shown once, never stored)."""
    key = mint_key()
    store.put_key(hash_key(key), project, key[: len(KEY_PREFIX) + 4])
    return key


def register_key(key: str, project: str) -> None:
    """Store a key chosen by the operator (the local API's ``THREADS_API_KEY``) for ``project``."""
    revoke_key(key)
    store.put_key(hash_key(key), project, key[:4])


def revoke_key(key_or_id: str) -> str | None:
    """Revoke by the key itself or by its id (the SHA-256 hex shown by ``list``): the project it belonged
    to, or None when there was no such key. This process forgets it at once; warm authorizers elsewhere
    within CACHE_SECONDS."""
    digest = key_or_id if is_digest(key_or_id) else hash_key(key_or_id)
    _cache.pop(digest, None)
    return store.delete_key(digest)


def is_digest(value: str) -> bool:
    return len(value) == 64 and all(c in string.hexdigits for c in value)
