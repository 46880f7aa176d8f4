"""Shared code of the Threads API functions.

Layers, from the outside in:
- ``gateway``: API Gateway events in, Lambda proxy responses out, the error envelope.
- ``auth``: API keys and the project they belong to.
- ``request_bodies``: what a request may say (pydantic; imported only by handlers that take a body).
- ``records``: the domain's records, as the store hands them over.
- ``response_bodies``: the OpenAI-shaped response objects, built from records.
- ``store``: DynamoDB, and nothing of HTTP.
- ``limits``, ``ids``, ``errors``: the domain's rules, identifiers and failures.
"""
