"""The local embedder: a hashed bag of words, so that search works from a fresh ``make serve``, with nothing
to configure and no call out. It is lexical, not semantic: a chunk ranks by the words it shares with the
query ("car" does not find "automobile"); a model (EMBEDDINGS_PROVIDER=openai or bedrock) finds meaning.

The vector of a text, ``local-lexical-v1``, D = 1024 dimensions:

1. the text is normalised (Unicode NFKC) and case-folded (``str.casefold``); its words are the runs of the
   regular expression ``\\w+`` (letters, digits and ``_``, in any script);
2. the words of ``STOP_WORDS`` (the commonest English words) are dropped;
3. each distinct word's frequency ``tf`` is weighted as BM25 saturates it: ``tf * (k1 + 1) / (tf + k1)``,
   k1 = 1.2 (once: 1, twice: 1.375, ten times: 1.96), so that a word repeated does not drown the others;
4. each word's UTF-8 bytes are hashed (BLAKE2b, 8-byte digest, read big-endian as h): its coordinate is
   ``1 + (h >> 1) % (D - 1)`` and its sign ``+`` if h is even, ``-`` if odd (the "hashing trick": two words
   that share a coordinate add or cancel at random, so collisions do not bias similarities upward); its
   weight is added there;
5. the vector is scaled to length 1 (L2), so that the cosine similarity of two vectors is their dot product:
   the sum, over the words they share, of the products of their weights (collisions aside).

No inverse document frequency and no length normalisation, BM25's two other parts: both are statistics of the
whole corpus, which a vector stored once cannot know (a word's rarity changes as files are added); the stop
words stand in for the commonest words' low IDF, and the L2 scaling for the lengths.

Coordinate 0 is no word's: a text with no word (only stop words, punctuation or spaces) is the unit vector
on it. S3 Vectors refuses a zero vector for the cosine distance, and this one is orthogonal to every text
with words: such a text matches nothing, and is matched by nothing, but another with no word.

Plain Python (no numpy), deterministic across processes and machines (no ``hash()``, which is salted per
process): the same text gives the same vector wherever it is embedded.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections import Counter
from functools import lru_cache

from threads_api.embeddings import LOCAL_NAME, require_texts

DIMENSIONS = 1024
K1 = 1.2
WORD = re.compile(r"\w+")
STOP_WORDS = frozenset(
    """a about an and are as at be been but by can do does for from had has have he her his how i if in into is
    it its me my of on or our she so than that the their them then there these they this to was we were what
    when where which who why will with you your""".split()  # noqa: SIM905 - prose to read, not 62 lines of quotes
)


class Lexical:
    """The ``Embedder`` of ``from_environment()`` without EMBEDDINGS_PROVIDER. Quick (well under a millisecond a
    chunk of 800 tokens), so ``deadline`` is not consulted."""

    def __init__(self, dimensions: int = DIMENSIONS) -> None:
        self.name = LOCAL_NAME
        self.dimensions = dimensions

    def embed(self, texts: list[str], *, deadline: float) -> list[list[float]]:
        require_texts(texts)
        return [vector(text, self.dimensions) for text in texts]


def words(text: str) -> list[str]:
    """The words of ``text`` that count (steps 1 and 2)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return [word for word in WORD.findall(folded) if word not in STOP_WORDS]


def vector(text: str, dimensions: int = DIMENSIONS) -> list[float]:
    """The unit vector of ``text`` in ``dimensions`` dimensions (at least 2)."""
    if dimensions < 2:
        raise ValueError("a lexical vector has at least 2 dimensions (coordinate 0 is the no-word one)")
    values = [0.0] * dimensions
    for word, tf in Counter(words(text)).items():
        coordinate, sign = _slot(word, dimensions)
        values[coordinate] += sign * tf * (K1 + 1) / (tf + K1)
    norm = math.sqrt(math.fsum(v * v for v in values))
    if norm == 0.0:  # no word, or (rarely) words whose weights cancelled out exactly
        values[0] = 1.0
        return values
    return [v / norm for v in values]


@lru_cache(maxsize=65536)  # a corpus's words repeat: hashing each once per container is most of the cost saved
def _slot(word: str, dimensions: int) -> tuple[int, float]:
    h = int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "big")
    return 1 + (h >> 1) % (dimensions - 1), -1.0 if h & 1 else 1.0
