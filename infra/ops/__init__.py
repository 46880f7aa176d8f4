"""The operator's commands: API keys and usage plans (``make key``), the OpenAPI document's generator, OpenAI's
reference documents, and the test model server a user can run for runs (``python -m infra.ops.chat_server``)."""
