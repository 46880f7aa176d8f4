"""OpenAI's cl100k_base encoding (tiktoken), from the file shipped with the code, never from the network.

The ranks file is ``TOKENIZER_FILE`` (on Lambda ``/opt/cl100k_base.tiktoken``, the ingest layer's root), else the
repository's ``infra/ingest_layer/cl100k_base.tiktoken``. It is checked against the sha256 that tiktoken itself
expects of cl100k_base, and loaded once per container, on first use (a function that never tokenizes pays
nothing). The file is read and parsed here rather than by ``tiktoken.load.load_tiktoken_bpe``: for a local path
that one also copies the file into ``$TMPDIR/data-gym-cache`` and prefers that copy next time, a write per
cold start and a second source of truth for nothing.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import tiktoken

# cl100k_base as tiktoken_ext/openai_public.py defines it (copied: that module only builds it from its URL);
# tests/unit/test_ingest_tokens.py checks the copy against tiktoken's own definition.
NAME = "cl100k_base"
EXPECTED_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
PAT_STR = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|"""
    r"""\s+(?!\S)|\s"""
)
SPECIAL_TOKENS = {
    "<|endoftext|>": 100257,
    "<|fim_prefix|>": 100258,
    "<|fim_middle|>": 100259,
    "<|fim_suffix|>": 100260,
    "<|endofprompt|>": 100276,
}

# functions/threads_api/ingest/tokens.py -> the repository's root.
REPOSITORY_FILE = Path(__file__).resolve().parents[3] / "infra" / "ingest_layer" / "cl100k_base.tiktoken"


class TokenizerFileError(Exception):
    """The shipped ranks file is missing or is not cl100k_base's: a deployment fault, not a file's."""


def ranks_file() -> Path:
    return Path(os.environ.get("TOKENIZER_FILE") or REPOSITORY_FILE)


def load_ranks(path: Path) -> dict[bytes, int]:
    """The mergeable ranks of a ``.tiktoken`` file (one ``<base64 token> <rank>`` a line), its hash checked."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TokenizerFileError(f"The tokenizer's file {path} cannot be read: {exc}") from exc
    actual = hashlib.sha256(data).hexdigest()
    if actual != EXPECTED_SHA256:
        raise TokenizerFileError(
            f"The tokenizer's file {path} is not {NAME}'s: sha256 {actual}, not {EXPECTED_SHA256}."
        )
    ranks: dict[bytes, int] = {}
    for line in data.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


@functools.cache
def encoding() -> tiktoken.Encoding:
    """cl100k_base, built once per container from the shipped file."""
    return tiktoken.Encoding(
        NAME, pat_str=PAT_STR, mergeable_ranks=load_ranks(ranks_file()), special_tokens=SPECIAL_TOKENS
    )


def encode(text: str) -> list[int]:
    """The text's tokens. A special token's text (``<|endoftext|>``) in a file is ordinary text, not a special
    token: tiktoken's ``encode`` would refuse it, and a file may well contain it."""
    return encoding().encode_ordinary(text)


def decode(tokens: Sequence[int]) -> str:
    """The tokens' text; bytes that do not make a whole character (a sequence cut inside one) become U+FFFD."""
    return encoding().decode(list(tokens))


def token_bytes(tokens: Sequence[int]) -> list[bytes]:
    """Each token's bytes (a token may hold part of a character)."""
    return encoding().decode_tokens_bytes(list(tokens))


def count(text: str) -> int:
    return len(encode(text))
