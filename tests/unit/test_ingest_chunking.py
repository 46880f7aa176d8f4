"""Static chunking (threads_api/ingest/chunking.py): windows of tokens and their overlaps, the bounds, and the
edges of windows that fall inside a character."""

from __future__ import annotations

import itertools
import random
import time

import pytest

from threads_api.domain.vector_stores import Chunking
from threads_api.ingest import tokens
from threads_api.ingest.chunking import chunk, windows


@pytest.mark.parametrize(
    ("n_tokens", "chunking", "expected"),
    [
        (0, Chunking(), []),
        (1, Chunking(), [(0, 1)]),
        (800, Chunking(), [(0, 800)]),
        (801, Chunking(), [(0, 800), (400, 801)]),
        (1000, Chunking(), [(0, 800), (400, 1000)]),  # not also (800, 1000): it lies inside the one before
        (2000, Chunking(), [(0, 800), (400, 1200), (800, 1600), (1200, 2000)]),
        (250, Chunking(100, 0), [(0, 100), (100, 200), (200, 250)]),
        (250, Chunking(100, 50), [(0, 100), (50, 150), (100, 200), (150, 250)]),
        (5000, Chunking(4096, 2048), [(0, 4096), (2048, 5000)]),
    ],
)
def test_windows_step_by_max_less_overlap_and_the_last_reaches_the_end(
    n_tokens: int, chunking: Chunking, expected: list[tuple[int, int]]
) -> None:
    assert windows(n_tokens, chunking) == expected


@pytest.mark.parametrize("chunking", [Chunking(99, 0), Chunking(4097, 0), Chunking(800, 401), Chunking(800, -1)])
def test_chunking_out_of_openais_bounds_is_a_bug(chunking: Chunking) -> None:
    """100 to 4096 tokens, an overlap of at most half: the request bodies refuse the rest with a 400."""
    with pytest.raises(ValueError, match="chunking out of bounds"):
        windows(10, chunking)


def test_an_empty_text_has_no_chunk_and_a_short_one_is_one() -> None:
    assert chunk("", Chunking()) == []
    assert chunk("hello world", Chunking()) == ["hello world"]


def test_chunks_are_the_windows_text_and_overlap_by_the_overlap() -> None:
    text = " ".join(f"word{i}" for i in range(1000))
    ids = tokens.encode(text)
    chunks = chunk(text, Chunking(100, 40))
    expected = [tokens.decode(ids[start:end]) for start, end in windows(len(ids), Chunking(100, 40))]
    assert chunks == expected
    assert all(tokens.count(c) <= 100 for c in chunks)
    assert text.startswith(chunks[0])
    assert text.endswith(chunks[-1])
    for before, after in itertools.pairwise(chunks):
        shared = tokens.decode(tokens.encode(before)[60:])  # the last 40 tokens of one begin the next
        assert after.startswith(shared)


def _random_text(seed: int, size: int) -> str:
    """Words of ASCII, accented Latin, CJK (random ideographs, so a substring is found once) and emoji."""
    rng = random.Random(seed)
    words = []
    for _ in range(size):
        kind = rng.randrange(4)
        if kind == 0:
            words.append("".join(rng.choice("abcdefghij") for _ in range(rng.randint(1, 8))))
        elif kind == 1:
            words.append("".join(rng.choice("éüçñøåß") for _ in range(rng.randint(1, 4))))
        elif kind == 2:
            words.append("".join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(rng.randint(1, 6))))
        else:
            words.append("".join(chr(rng.randint(0x1F300, 0x1F64F)) for _ in range(rng.randint(1, 3))))
    return " ".join(words)


@pytest.mark.parametrize("chunking", [Chunking(100, 0), Chunking(100, 50), Chunking(137, 13), Chunking()])
def test_multibyte_text_is_cut_at_whole_characters_and_none_is_lost(chunking: Chunking) -> None:
    text = _random_text(seed=chunking.max_chunk_size_tokens + chunking.chunk_overlap_tokens, size=3000)
    ids = tokens.encode(text)
    ranges = windows(len(ids), chunking)
    assert any("\ufffd" in tokens.decode(ids[start:end]) for start, end in ranges), "no window cuts a character"
    chunks = chunk(text, chunking)
    assert len(chunks) == len(ranges)
    position = 0
    for piece in chunks:
        assert "\ufffd" not in piece
        found = text.find(piece, max(0, position - len(piece)))
        assert found != -1, "a chunk is not the text's own"
        # It begins no later than where the one before ended: no character is lost between two chunks.
        assert found <= position
        position = found + len(piece)
        assert tokens.count(piece) <= chunking.max_chunk_size_tokens + 4
    assert position == len(text)


def test_a_character_cut_by_two_windows_without_overlap_is_in_both() -> None:
    text = "🎉" * 200  # three tokens each: windows of 100 cut inside one
    chunks = chunk(text, Chunking(100, 0))
    assert [len(piece) for piece in chunks] == [34, 34, 34, 34, 34, 34]
    assert "".join(chunks) == "🎉" * 204  # each cut character whole on both sides


def test_a_lone_surrogate_becomes_the_replacement_character_as_tiktoken_encodes_it() -> None:
    assert chunk("a\ud800b", Chunking()) == ["a\ufffdb"]


def test_a_megabyte_chunks_in_well_under_a_second_per_megabyte() -> None:
    text = _random_text(seed=1, size=200_000).encode()[:1_000_000].decode(errors="ignore")
    tokens.encoding()  # the encoding's load is once per container, not per text
    started = time.perf_counter()
    chunks = chunk(text, Chunking())
    elapsed = time.perf_counter() - started
    assert chunks
    assert elapsed < 3, f"1 MB chunked in {elapsed:.2f}s"  # ~0.15s measured; the machine is shared
