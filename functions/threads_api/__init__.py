"""Shared code of the Threads API functions.

Layers, from the outside in:
- ``http``: API Gateway events in, Lambda proxy responses out, the error envelope.
- ``auth``: API keys and the project they belong to.
- ``models``: request validation (pydantic; imported only by handlers that take a body).
- ``objects``: the OpenAI-shaped response objects.
- ``store``: DynamoDB, and nothing of HTTP.
- ``limits``, ``ids``, ``errors``: the domain's rules, identifiers and failures.
"""
