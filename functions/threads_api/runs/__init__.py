"""Runs: their life (``lifecycle``), what a model is asked (``chat``), the worker that asks it (``worker``, its
rounds of file_search calls searched in the same invocation: ``tool_round``, ``searching``), how an API function
hands a run to the worker (``starter``), and the stream of events (``events``).

The API functions import ``lifecycle``, ``starter`` and ``events`` only; the provider clients
(``threads_api.providers``) and the embedder of the searches are the worker's alone (and a streamed run's).
"""
