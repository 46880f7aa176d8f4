"""Runs: their life (``lifecycle``), what a model is asked (``chat``), the worker that asks it (``worker``),
how an API function hands a run to the worker (``starter``), and the stream of events (``events``).

The API functions import ``lifecycle``, ``starter`` and ``events`` only; the provider clients
(``threads_api.providers``) are the worker's alone.
"""
