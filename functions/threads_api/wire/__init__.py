"""OpenAI's wire shapes: request bodies as pydantic models (loaded only by the functions that take them) and
the response objects built from the domain's records. No I/O: it imports only the domain."""
