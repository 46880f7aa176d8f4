"""API keys: ``Authorization: Bearer <key>`` (or Portkey's ``x-portkey-api-key``) to a project.

Only a key's SHA-256 is stored. A warm container remembers a key's project for ``KEY_CACHE_SECONDS``
(30 s by default), so authentication costs no DynamoDB round trip on most requests; that is also the
bound within which a revoked key stops working.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import string
import time

from threads_api import errors, store

KEY_PREFIX = "sk-thr-"
CACHE_SECONDS = float(os.environ.get("KEY_CACHE_SECONDS", "30"))
_CACHE_MAX = 1024
_cache: dict[str, tuple[str, float]] = {}  # key hash -> (project, monotonic expiry)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def mint_key() -> str:
    alphabet = string.ascii_letters + string.digits
    return KEY_PREFIX + "".join(secrets.choice(alphabet) for _ in range(48))


_HTTP_SPACE = " \t"  # HTTP's optional whitespace; str.strip() alone would also eat Unicode spaces


def key_from_headers(headers: dict[str, str]) -> str | None:
    authorization = headers.get("authorization", "")
    scheme, _, token = authorization.strip(_HTTP_SPACE).partition(" ")
    if scheme.lower() == "bearer" and token.strip(_HTTP_SPACE):
        return token.strip(_HTTP_SPACE)
    portkey = headers.get("x-portkey-api-key", "").strip(_HTTP_SPACE)
    return portkey or None


def project_for(key: str | None) -> str:
    """The project of a valid key; ``ApiError`` 401 otherwise."""
    if not key:
        raise errors.missing_key()
    digest = hash_key(key)
    now = time.monotonic()
    cached = _cache.get(digest)
    if cached is not None and cached[1] > now:
        return cached[0]
    project = store.get_key_project(digest)
    if project is None:
        _cache.pop(digest, None)
        raise errors.invalid_key(key)
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


def revoke_key(key_or_id: str) -> bool:
    """Revoke by the key itself or by its id (the SHA-256 hex shown by ``list``)."""
    digest = key_or_id if _is_digest(key_or_id) else hash_key(key_or_id)
    _cache.pop(digest, None)
    return store.delete_key(digest)


def _is_digest(value: str) -> bool:
    return len(value) == 64 and all(c in string.hexdigits for c in value)
