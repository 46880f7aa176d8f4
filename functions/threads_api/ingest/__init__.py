"""Ingestion's pure steps: a file's bytes to its text (parsing), the text to tokens (tokens, OpenAI's cl100k_base)
and the tokens to overlapping chunks (chunking). No AWS, no network: it imports only the domain."""
