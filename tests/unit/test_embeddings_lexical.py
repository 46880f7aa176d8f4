"""The local lexical embedding (threads_api/embeddings/lexical.py): exactly the algorithm its docstring (and the
README) states, the same in every process, of length 1, and ranking chunks by the words they share with a query."""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import pytest

from threads_api.embeddings import EmbeddingError
from threads_api.embeddings.lexical import DIMENSIONS, STOP_WORDS, Lexical, vector, words

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


def cosine(a: list[float], b: list[float]) -> float:
    return math.fsum(x * y for x, y in zip(a, b, strict=True))  # both of length 1


def slot(word: str, dimensions: int = DIMENSIONS) -> tuple[int, float]:
    """The docstring's step 4, written again from its words."""
    h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "big")
    return 1 + (h >> 1) % (dimensions - 1), (-1.0 if h % 2 else 1.0)


def test_one_word_is_a_signed_unit_coordinate_pinned_for_good() -> None:
    """Pinned: a change of the algorithm changes every stored vector, and must change the name (-v2) too."""
    assert slot("hello") == (695, -1.0)
    assert slot("search") == (798, 1.0)
    values = vector("Hello")
    assert len(values) == DIMENSIONS == 1024
    assert {i: v for i, v in enumerate(values) if v} == {695: -1.0}


def test_term_frequency_saturates_as_bm25_and_the_vector_has_length_one() -> None:
    values = vector("apple apple banana")
    (apple, apple_sign), (banana, banana_sign) = slot("apple"), slot("banana")
    weights = {apple: apple_sign * 2 * 2.2 / 3.2, banana: banana_sign * 1.0}  # tf*(k1+1)/(tf+k1), k1=1.2
    norm = math.sqrt(sum(w * w for w in weights.values()))
    assert {i: v for i, v in enumerate(values) if v} == pytest.approx({i: w / norm for i, w in weights.items()})
    assert math.fsum(v * v for v in vector("a long text " * 50 + "with some other words")) == pytest.approx(1.0)


def test_words_are_nfkc_case_folded_and_stop_words_dropped() -> None:
    assert words("The CAFÉ, ｃａｆｅ and Straße: it is 42_x!") == ["café", "cafe", "strasse", "42_x"]
    assert vector("THE Café") == vector("café")
    assert {"the", "and", "is", "it", "what", "how"} <= STOP_WORDS
    assert "not" not in STOP_WORDS  # a negation is a word that counts


def test_a_text_without_words_is_the_no_word_unit_vector() -> None:
    """Not a zero vector (S3 Vectors refuses one for the cosine distance): coordinate 0, which no word uses."""
    for text in ("", "   ", "?!... ---", "the and of it"):
        assert vector(text) == [1.0] + [0.0] * (DIMENSIONS - 1)
    assert cosine(vector("..."), vector("any word at all")) == 0.0


def test_the_same_text_gives_the_same_vector_in_another_process() -> None:
    """No ``hash()``: Python salts it per process (PYTHONHASHSEED), and stored vectors outlive processes."""
    text = "Determinism across processes: zebra, quokka, 北京, naïve."
    code = f"import json; from threads_api.embeddings.lexical import vector; print(json.dumps(vector({text!r})))"
    for seed in ("1", "2"):
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            cwd=FUNCTIONS,
            env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
        )
        assert json.loads(out.stdout) == vector(text)  # JSON writes a float's shortest exact form


def test_a_chunk_sharing_the_querys_words_ranks_first() -> None:
    chunks = [
        "The weather in Paris is sunny, with a light wind from the west.",
        "To reset your password, open Settings, choose Security and click Reset password.",
        "Our office opens at nine; the password to the wifi is on the fridge.",
        "Quarterly revenue grew by twelve percent, driven by subscriptions.",
    ]
    query = vector("How do I reset my password?")
    scores = [cosine(query, vector(chunk)) for chunk in chunks]
    assert scores.index(max(scores)) == 1
    assert scores[2] > scores[0] == scores[3] == 0.0  # one shared word ranks above none


def test_other_sizes_and_the_embedder() -> None:
    assert len(vector("hello", 16)) == 16
    with pytest.raises(ValueError, match="at least 2"):
        vector("hello", 1)
    embedder = Lexical()
    assert (embedder.name, embedder.dimensions) == ("local-lexical-v1", 1024)
    assert embedder.embed(["one", "two words"], deadline=time.monotonic() + 1) == [vector("one"), vector("two words")]
    assert embedder.embed([], deadline=0.0) == []
    with pytest.raises(EmbeddingError) as failure:
        embedder.embed(["fine", ""], deadline=time.monotonic() + 1)
    assert not failure.value.retryable
    assert "Text 1" in failure.value.message
