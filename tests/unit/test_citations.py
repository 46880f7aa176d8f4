"""Citation markers and their annotations (``domain.citations``): both marker shapes, markers that resolve to
nothing, unclosed ones, indices past astral characters, and ``settled``: a reply cut into deltas anywhere gives,
joined, the text and the annotations of the whole."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest

from tests.contract.schemas import assert_valid
from threads_api.domain import citations

SOURCES = [["file-a0", "file-a1"], ["file-b0", "file-b1", "file-b2"]]


def _spans(text: str, found: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Each annotation's text (checked to be the span it names) and file."""
    for a in found:
        assert text[a["start_index"] : a["end_index"]] == a["text"]
        assert_valid(a, "MessageContentTextAnnotationsFileCitationObject")
    return [(a["text"], a["file_citation"]["file_id"]) for a in found]


def test_markers_with_a_search_number_name_that_search_and_without_one_the_latest() -> None:
    text = "Two years 【0:1†warranty terms.txt】, returns in 30 days【1†faq.md】 and more【1:2†x】."
    assert _spans(text, citations.annotations(text, SOURCES)) == [
        ("【0:1†warranty terms.txt】", "file-a1"),
        ("【1†faq.md】", "file-b1"),
        ("【1:2†x】", "file-b2"),
    ]
    found = citations.annotations(text, SOURCES)[0]
    assert list(found) == ["type", "text", "file_citation", "start_index", "end_index"]
    assert (found["start_index"], found["end_index"]) == (10, 10 + len("【0:1†warranty terms.txt】"))


def test_a_marker_of_a_number_never_given_stays_unannotated_and_the_label_decides_nothing() -> None:
    text = "A【2:0†a】 B【0:5†a】 C【9†a】 D【0:0†any name at all】 E【0:0†】"
    assert _spans(text, citations.annotations(text, SOURCES)) == [
        ("【0:0†any name at all】", "file-a0"),
        ("【0:0†】", "file-a0"),
    ]
    assert citations.annotations(text, []) == []
    assert citations.annotations("【0†x】", [[]]) == []


@pytest.mark.parametrize(
    "text",
    ["【0:0 x】", "【0:0†a\nb】", "【a:0†x】", "【0:0†x", "【12345:0†x】", "[0:0†x]", "【0:0†" + "x" * 257 + "】"],
)
def test_what_is_not_a_marker_is_not_annotated(text: str) -> None:
    assert citations.annotations(text, [["file-a"] * 10]) == []


def test_indices_are_code_points_past_astral_characters() -> None:
    text = "😀😀 here【0:0†a】"
    (found,) = citations.annotations(text, SOURCES)
    assert (found["start_index"], found["end_index"]) == (7, 14)


def test_labels_are_safe_in_a_marker() -> None:
    assert citations.label("a【b】c†d\ne\rf\u2028g") == "a b c d e f g"
    assert len(citations.label("x" * 500)) == citations.LABEL_MAX_CHARS
    marker = citations.marker(3, 12, "report 【draft】.pdf")
    assert marker == "【3:12†report  draft .pdf】"
    assert (
        citations.annotations(marker, [[]] * 3 + [[f"file-{n}" for n in range(13)]])[0]["file_citation"]["file_id"]
        == "file-12"
    )


def test_settled_holds_back_only_an_unclosed_marker_near_the_end() -> None:
    assert citations.settled("") == 0
    assert citations.settled("plain text") == 10
    assert citations.settled("see 【0:1†fi") == 4
    assert citations.settled("see 【0:1†file】") == len("see 【0:1†file】")
    assert citations.settled("see 【0:1†file】 and 【") == len("see 【0:1†file】 and ")
    lone = "a 【 lone bracket" + "x" * citations.MARKER_MAX_CHARS
    assert citations.settled(lone) == len(lone)  # too far back to open a marker: not held forever
    assert citations.settled(lone + "【0") == len(lone)


def test_settled_never_takes_back_what_a_shorter_text_gave() -> None:
    text = "A【0:0†a b】 long " + "y" * 290 + " 【 lone, then【1:2†c d e】 and【0†z】【"
    ends = [citations.settled(text[:n]) for n in range(len(text) + 1)]
    assert all(a <= b for a, b in itertools.pairwise(ends))
    assert all(end <= n for n, end in enumerate(ends))


def _streamed(text: str, cuts: list[int]) -> tuple[str, list[dict[str, Any]]]:
    """What a stream sends for ``text`` written in pieces ending at ``cuts``: each time the settled text beyond
    what was sent, with the annotations that start in it; the rest at the end."""
    sent, told = "", []
    for n in [*cuts, None]:
        so_far = text if n is None else text[:n]
        end = len(so_far) if n is None else citations.settled(so_far)
        if end > len(sent):
            told += [a for a in citations.annotations(so_far[:end], SOURCES) if a["start_index"] >= len(sent)]
            sent = so_far[:end]
    return sent, told


def test_deltas_cut_anywhere_join_to_the_whole_texts_annotations() -> None:
    text = "Warranty: two years【0:1†warranty terms.txt】. Returns【1†faq.md】, 😀 not【7:7†x】【1:2†c】 done 【"
    whole = citations.annotations(text, SOURCES)
    assert len(whole) == 3
    for n in range(len(text) + 1):  # every single cut
        assert _streamed(text, [n]) == (text, whole)
    rng = random.Random(20)
    for _ in range(300):  # and many random splits into several pieces
        cuts = sorted(rng.sample(range(1, len(text)), rng.randrange(1, 12)))
        assert _streamed(text, cuts) == (text, whole)
