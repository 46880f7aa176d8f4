"""API Gateway's edge, locally: a route's Lambda authorizer, its result cache, and each project's usage plan.

What AWS does before it invokes a route's function, as the template configures it:
- **The authorizer** (a REQUEST authorizer): with result caching on, a request that lacks any identity
  source is API Gateway's own 401 (``UNAUTHORIZED``) and the authorizer is not called; a cached result is
  reused for the TTL, per identity. The authorizer's policy must allow ``execute-api:Invoke`` on the
  method's ARN, else ``ACCESS_DENIED`` (its gateway response may use ``$context.authorizer.*``). A function
  that fails or returns no policy is a 500 (``AUTHORIZER_FAILURE``/``AUTHORIZER_CONFIGURATION_ERROR``).
- **The usage plan** (``ApiKeySourceType: AUTHORIZER``): a route that requires an API key needs the
  authorizer's ``usageIdentifierKey``, an API key the plan holds (``INVALID_API_KEY``, 403, otherwise), and
  each key may be throttled on its own by a token bucket of a rate and burst: beyond it, ``THROTTLED`` (429,
  ``Retry-After``). Locally that throttle is opt-in (``make serve PROJECT_RATE_LIMIT=25``): by default no
  project is throttled, so that a test suite driving the local API never meets a 429 it did not ask for.
- What reaches the function: ``requestContext.authorizer`` is the authorizer's context, its
  ``principalId`` and the ``integrationLatency``.

The local usage plan holds every project's key (``make key`` adds each to the deployed plan; locally there is
nothing to add), so a key the authorizer returns is always metered, never refused; a test may give the edge a
plan of its own (``usage_plan``) to see what a deployed stack answers when the plan lacks a key.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

from infra import template
from infra.local import iam
from infra.local.gateway_responses import gateway_response
from infra.local.lambda_pool import Outcome
from infra.local.stack import ACCOUNT, REGION

# (function logical id, event) -> what Lambda answered
InvokeFunction = Callable[[str, dict[str, Any]], Outcome]
Answer = tuple[int, dict[str, str], bytes]  # API Gateway's own response: status, headers, body


class TokenBucket:
    """API Gateway's throttling: ``burst`` requests at once, refilled at ``rate`` per second."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float]) -> None:
        self.rate, self.burst, self._clock = rate, burst, clock
        self._tokens, self._updated = burst, clock()

    def take(self) -> bool:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False


def project_throttle(value: str | None, old_burst: str | None = None) -> tuple[float, float] | None:
    """make serve's ``PROJECT_RATE_LIMIT``: unset or empty, None (no throttling, the local default); ``<rate>``,
    that many requests a second with bursts of as many; ``<rate>/<burst>``. ValueError, in a sentence, for
    anything else, and for ``PROJECT_BURST_LIMIT`` (``old_burst``), which is no more."""
    if old_burst:
        raise ValueError(
            "PROJECT_BURST_LIMIT is no more: give the burst with the rate, PROJECT_RATE_LIMIT=<rate>/<burst>."
        )
    if not (value or "").strip():
        return None
    rate_text, slash, burst_text = str(value).strip().partition("/")
    try:
        rate = float(rate_text)
        burst = float(burst_text) if slash else rate
    except ValueError:
        rate = burst = 0.0
    if not (1 <= rate < math.inf and 1 <= burst < math.inf):
        raise ValueError(
            f"PROJECT_RATE_LIMIT must be <rate> or <rate>/<burst>, each a number from 1 (got {value!r}): "
            "for example PROJECT_RATE_LIMIT=25 or PROJECT_RATE_LIMIT=25/50. Leave it unset for no throttling."
        )
    return rate, burst


def throttle_text(throttle: tuple[float, float] | None) -> str:
    """The throttle in make serve's banner."""
    if throttle is None:
        return "none per project (PROJECT_RATE_LIMIT=<rate>[/<burst>] turns it on)"
    return f"{throttle[0]:g} requests/s per project, bursts of {throttle[1]:g}"


def in_process(function: str, event: dict[str, Any]) -> Outcome:
    """A function of the template run in this process, as Lambda would answer its invocation."""
    from infra.local.invoke import run_in_process, template_handler

    return run_in_process(template_handler(function), function, event)


class Edge:
    """The authorizer and the usage plan in front of every route that has them (thread-safe).

    ``rate``/``burst``: each project's throttle (requests a second, and the bucket's size: the rate unless
    given); None, the default: no throttling. ``usage_plan``: whether the plan holds an API key (by its
    value); None, the default: every key, as in the local plan."""

    def __init__(
        self,
        invoke: InvokeFunction = in_process,
        *,
        rate: float | None = None,
        burst: float | None = None,
        usage_plan: Callable[[str], bool] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = (rate if burst is None else burst) if rate is not None else None
        self._usage_plan = usage_plan
        self._invoke, self._clock = invoke, clock
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, ...], tuple[float, dict[str, Any]]] = {}  # identity -> (expiry, result)
        self._buckets: dict[str, TokenBucket] = {}
        self.authorizer_calls = 0

    def check(self, route: template.Route, event: dict[str, Any]) -> Answer | None:
        """None: the request goes on to the function, ``event`` carrying the authorizer's context. Otherwise
        API Gateway's own answer, and no function runs."""
        if route.authorizer is None:
            return None
        spec = template.authorizer(route.authorizer)
        context = event["requestContext"]
        gateway = {"requestId": context["requestId"], "httpMethod": event["httpMethod"], "path": context["path"]}
        identity = tuple(_identity_value(source, event) for source in spec.identity_sources)
        if spec.ttl_seconds > 0 and not all(identity):
            return _answer("UNAUTHORIZED", 401, gateway, "Unauthorized")
        started = time.perf_counter()
        result = self._authorize(spec, identity, _authorizer_event(event))
        if result is None:
            return _answer("AUTHORIZER_FAILURE", 500, gateway, "Internal server error")
        statements = (result.get("policyDocument") or {}).get("Statement") or []
        authorizer = {**(result.get("context") or {}), "principalId": result.get("principalId")}
        if not isinstance(statements, list) or not result.get("principalId"):
            return _answer("AUTHORIZER_CONFIGURATION_ERROR", 500, gateway, "Internal server error")
        if not iam.allows(statements, "execute-api:Invoke", _method_arn(event)):
            return _answer("ACCESS_DENIED", 403, gateway, "User is not authorized to access this resource", authorizer)
        if route.api_key_required:
            key = result.get("usageIdentifierKey")
            if not key or (self._usage_plan is not None and not self._usage_plan(str(key))):
                return _answer("INVALID_API_KEY", 403, gateway, "Forbidden", authorizer)
            if self.rate is not None and not self._bucket(str(key)).take():
                return _answer("THROTTLED", 429, gateway, "Too Many Requests", authorizer)
        context["authorizer"] = {**authorizer, "integrationLatency": int((time.perf_counter() - started) * 1000)}
        return None

    def _authorize(
        self, spec: template.Authorizer, identity: tuple[str, ...], event: dict[str, Any]
    ) -> dict[str, Any] | None:
        if spec.ttl_seconds > 0:
            with self._lock:
                cached = self._cache.get(identity)
                if cached is not None and cached[0] > self._clock():
                    return cached[1]
        with self._lock:
            self.authorizer_calls += 1
        result = self._invoke(spec.function, event).response()
        if not isinstance(result, dict):
            return None
        if spec.ttl_seconds > 0:
            with self._lock:
                self._cache[identity] = (self._clock() + spec.ttl_seconds, result)
        return result

    def _bucket(self, key: str) -> TokenBucket:
        assert self.rate is not None and self.burst is not None
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = TokenBucket(self.rate, self.burst, self._clock)
            return bucket


def _identity_value(source: str, event: dict[str, Any]) -> str:
    """An identity source's value in the request ('' when absent or empty)."""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    places: dict[str, tuple[str, Any]] = {
        "context.": ("", event["requestContext"]),
        "stageVariables.": ("", event.get("stageVariables") or {}),
        "method.request.header.": ("lower", headers),
        "method.request.querystring.": ("", event.get("queryStringParameters") or {}),
    }
    for prefix, (case, values) in places.items():
        if source.startswith(prefix):
            name = source.removeprefix(prefix)
            return str(values.get(name.lower() if case else name) or "")
    raise ValueError(f"identity source {source!r} is not emulated")


def _method_arn(event: dict[str, Any]) -> str:
    context = event["requestContext"]
    path = str(event["path"]).lstrip("/")
    return f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{context['apiId']}/{context['stage']}/{event['httpMethod']}/{path}"


def _authorizer_event(event: dict[str, Any]) -> dict[str, Any]:
    """The REQUEST authorizer's event: the proxy event's request, without the body, and the method's ARN."""
    request = {k: v for k, v in event.items() if k not in ("body", "isBase64Encoded")}
    return {"type": "REQUEST", "methodArn": _method_arn(event), **request}


def _answer(kind: str, status: int, gateway: dict[str, str], message: str, authorizer: Any = None) -> Answer:

    return gateway_response(kind, status, {**gateway, "message": message}, authorizer=authorizer)
