"""The HTTP adapter: API Gateway's proxy events in, responses out. The ``endpoint`` decorator, the request
(body, query, list parameters), Idempotency-Key, and OpenAI's error envelope, to which the domain's errors
are mapped here and only here."""
