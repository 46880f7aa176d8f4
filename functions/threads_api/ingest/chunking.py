"""A text into overlapping chunks of tokens: OpenAI's static chunking strategy.

Windows of ``max_chunk_size_tokens`` tokens of the text, each starting ``max - overlap`` tokens after the
previous one; the last is the first that reaches the text's end (it may be shorter, and no window lies wholly
inside the one before). A window's edge can fall inside a character (a token may hold part of one): the chunk
is widened to the whole character at both edges, so that no character is ever lost or mangled, even between
windows without overlap. A chunk may so hold a few bytes more than its tokens, never fewer.
"""

from __future__ import annotations

from itertools import accumulate

from threads_api.domain.vector_stores import MAX_CHUNK_TOKENS, MIN_CHUNK_TOKENS, Chunking
from threads_api.ingest import tokens


def windows(n_tokens: int, chunking: Chunking) -> list[tuple[int, int]]:
    """The token ranges ``[start, end)`` of the chunks of a text of ``n_tokens`` tokens."""
    size, overlap = chunking.max_chunk_size_tokens, chunking.chunk_overlap_tokens
    # The request bodies refuse other values with a 400; reaching here with them is a bug.
    if not MIN_CHUNK_TOKENS <= size <= MAX_CHUNK_TOKENS or not 0 <= overlap <= size // 2:
        raise ValueError(f"chunking out of bounds: {chunking}")
    ranges: list[tuple[int, int]] = []
    start = 0
    while start < n_tokens:
        end = min(start + size, n_tokens)
        ranges.append((start, end))
        if end == n_tokens:
            break
        start += size - overlap
    return ranges


def _utf8(text: str) -> tuple[str, bytes]:
    """The text and its UTF-8. A lone surrogate (no UTF-8 has one) becomes U+FFFD, as tiktoken encodes it."""
    try:
        return text, text.encode()
    except UnicodeEncodeError:
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        return text, text.encode()


def chunk(text: str, chunking: Chunking) -> list[str]:
    """The text's chunks, in order (none for an empty text)."""
    text, data = _utf8(text)
    ids = tokens.encode(text)
    # offsets[i]: where token i starts in the text's UTF-8 (the tokens' bytes are the text's, in order).
    offsets = [0, *accumulate(map(len, tokens.token_bytes(ids)))]
    assert offsets[-1] == len(data)
    chunks = []
    for start, end in windows(len(ids), chunking):
        first, last = offsets[start], offsets[end]
        while first > 0 and _continuation(data[first]):
            first -= 1  # back to the start of the character the window begins inside
        while last < len(data) and _continuation(data[last]):
            last += 1  # on to the end of the character the window ends inside
        chunks.append(data[first:last].decode())
    return chunks


def _continuation(byte: int) -> bool:
    """A UTF-8 continuation byte (10xxxxxx): not the first byte of a character."""
    return byte & 0xC0 == 0x80
