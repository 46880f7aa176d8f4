"""The cl100k_base encoding (threads_api/ingest/tokens.py): OpenAI's token ids, from the shipped file only (its
hash checked, no network, no cache written), and the definition copied from tiktoken's own."""

from __future__ import annotations

import socket
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tiktoken.load
import tiktoken_ext.openai_public  # type: ignore[import-untyped]  # no py.typed: a namespace package

from threads_api.ingest import tokens


@pytest.fixture(autouse=True)
def _fresh_encoding() -> Iterator[None]:
    """Each test loads the encoding as a new container would, and leaves none loaded from its own file."""
    tokens.encoding.cache_clear()
    yield
    tokens.encoding.cache_clear()


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("hello world", [15339, 1917]),
        ("tiktoken is great!", [83, 1609, 5963, 374, 2294, 0]),  # tiktoken's README
        ("🎉", [9468, 236, 231]),  # one character, three tokens: the first holds two of its four bytes
        ("", []),
    ],
)
def test_token_ids_are_openais(text: str, ids: list[int]) -> None:
    assert tokens.encode(text) == ids
    assert tokens.count(text) == len(ids)
    assert tokens.decode(ids) == text


def test_a_special_tokens_text_in_a_file_is_ordinary_text() -> None:
    ids = tokens.encode("before <|endoftext|> after")
    assert 100257 not in ids
    assert tokens.decode(ids) == "before <|endoftext|> after"


def test_a_cut_character_decodes_to_the_replacement_character() -> None:
    assert tokens.decode([9468]) == "\ufffd"
    assert tokens.token_bytes([9468, 236, 231]) == [b"\xf0\x9f", b"\x8e", b"\x89"]


def test_the_definition_is_tiktokens_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """openai_public.cl100k_base() run with its loader stubbed: the hash it expects, its pattern, its specials."""
    asked: dict[str, Any] = {}

    def load(url: str, expected_hash: str | None = None) -> dict[bytes, int]:
        asked.update(url=url, expected_hash=expected_hash)
        return {}

    monkeypatch.setattr(tiktoken_ext.openai_public, "load_tiktoken_bpe", load)
    definition = tiktoken_ext.openai_public.cl100k_base()
    assert asked["expected_hash"] == tokens.EXPECTED_SHA256
    assert asked["url"].endswith("/cl100k_base.tiktoken")
    assert definition["name"] == tokens.NAME
    assert definition["pat_str"] == tokens.PAT_STR
    assert definition["special_tokens"] == tokens.SPECIAL_TOKENS


def test_the_encoding_is_built_from_the_local_file_without_network_cache_or_requests(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def no_network(*args: object) -> None:
        raise AssertionError("the tokenizer touched the network")

    def no_tiktoken_loader(*args: object, **kwargs: object) -> None:
        raise AssertionError("tiktoken's loader (and its cache in the temporary directory) was used")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setitem(sys.modules, "requests", None)  # importing requests would fail: the layer has none
    monkeypatch.setattr(tiktoken.load, "read_file_cached", no_tiktoken_loader)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.delenv("TOKENIZER_FILE", raising=False)
    assert tokens.ranks_file() == tokens.REPOSITORY_FILE
    assert tokens.encode("hello world") == [15339, 1917]
    assert tokens.encoding() is tokens.encoding()  # once per container
    assert not list(tmp_path.iterdir())


def test_the_shipped_file_is_the_one_tiktoken_expects() -> None:
    import hashlib

    data = tokens.REPOSITORY_FILE.read_bytes()
    assert hashlib.sha256(data).hexdigest() == tokens.EXPECTED_SHA256
    assert len(tokens.load_ranks(tokens.REPOSITORY_FILE)) == 100256


def test_tokenizer_file_names_the_file_and_a_modified_one_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    original = tokens.REPOSITORY_FILE.read_bytes()
    genuine = tmp_path / "genuine.tiktoken"
    genuine.write_bytes(original)
    monkeypatch.setenv("TOKENIZER_FILE", str(genuine))
    assert tokens.ranks_file() == genuine
    assert tokens.count("hello world") == 2

    tokens.encoding.cache_clear()
    modified = tmp_path / "modified.tiktoken"
    first, rest = original.split(b"\n", 1)
    token, rank = first.split()
    modified.write_bytes(token + b" " + str(int(rank) + 1).encode() + b"\n" + rest)  # one rank off
    monkeypatch.setenv("TOKENIZER_FILE", str(modified))
    with pytest.raises(tokens.TokenizerFileError, match=r"is not cl100k_base's: sha256 [0-9a-f]{64}"):
        tokens.encode("hello")

    monkeypatch.setenv("TOKENIZER_FILE", str(tmp_path / "absent.tiktoken"))
    with pytest.raises(tokens.TokenizerFileError, match="cannot be read"):
        tokens.encode("hello")
