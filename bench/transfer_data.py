"""The import/export bench's input (``bench/transfer.py``): a synthetic export of OpenAI's API as JSON Lines, as
a user's script that paged through OpenAI's threads would write it.

Each object has the shape OpenAI's API returns (as ``tests/cli/test_transfer.py``'s ``openai_file``), so the
import checks it against the reference schemas as it would a real export: ids of OpenAI's form (``thread_``,
``msg_``, ``asst_``, ``run_`` then 24 letters and digits), English prose of a few hundred characters a message
(``vector_support.text``), user messages and a run's replies in turn, a few with an image (``image_file`` or
``image_url``) or an attached file. Seeded: the same arguments write the same file.
"""

from __future__ import annotations

import json
import random
import string
from pathlib import Path
from typing import Any

from bench.vector_support import text

BASE62 = string.digits + string.ascii_letters
USER_CHARS, REPLY_CHARS = (40, 400), (200, 1200)  # a question, then a longer answer
IMAGE_EVERY, ATTACHMENT_EVERY = 40, 25  # one user message in so many has an image, one an attached file
START = 1_700_000_000  # created_at of the first thread (November 2023)


def openai_id(rng: random.Random, prefix: str) -> str:
    return prefix + "".join(rng.choices(BASE62, k=24))


def _assistant(rng: random.Random, n: int) -> dict[str, Any]:
    return {
        "id": openai_id(rng, "asst_"),
        "object": "assistant",
        "created_at": START - 86_400 + n,
        "name": f"Helper {n}",
        "description": None,
        "model": "gpt-4o",
        "instructions": "Answer from the attached documents; say so when they do not cover the question.",
        "tools": [{"type": "file_search"}],
        "tool_resources": {"file_search": {"vector_store_ids": []}},
        "metadata": {"team": f"team-{n}"},
        "temperature": 0.5,
        "top_p": 1.0,
        "response_format": "auto",
    }


def _thread(rng: random.Random, n: int) -> dict[str, Any]:
    return {
        "id": openai_id(rng, "thread_"),
        "object": "thread",
        "created_at": START + n * 3600,
        "metadata": {"user": str(rng.randint(1, 10_000))},
        "tool_resources": {"code_interpreter": {"file_ids": []}},
    }


class Prose:
    """Pieces of one long generated text, whole sentences: one text for the whole file, as ``text`` reads its
    vocabulary at each call."""

    def __init__(self, chars: int, seed: int) -> None:
        self.text, self.at = text(chars, seed), 0

    def piece(self, length: int) -> str:
        end = self.text.find(". ", self.at + length) + 1  # a piece ends with its sentence
        end = end or len(self.text)
        piece, self.at = self.text[self.at : end].strip(), end
        if self.at >= len(self.text) - REPLY_CHARS[1]:
            self.at = 0  # round again: the text is sized for the file's messages, this is only a safeguard
        return piece or "Thanks."


def _content(rng: random.Random, n: int, value: str) -> list[dict[str, Any]]:
    """The text, and for some user messages (``n`` even) an image after it."""
    content: list[dict[str, Any]] = [{"type": "text", "text": {"value": value, "annotations": []}}]
    if n % IMAGE_EVERY == 2:
        content.append({"type": "image_file", "image_file": {"file_id": openai_id(rng, "file-"), "detail": "auto"}})
    elif n % IMAGE_EVERY == 22:
        url = f"https://example.com/images/{openai_id(rng, '')}.png"
        content.append({"type": "image_url", "image_url": {"url": url, "detail": "low"}})
    return content


def _message(
    rng: random.Random, prose: Prose, thread: dict[str, Any], n: int, assistants: list[dict[str, Any]]
) -> dict[str, Any]:
    """The ``n``-th message of ``thread``: a user's question when ``n`` is even, a run's reply when odd."""
    reply = n % 2 == 1
    created = thread["created_at"] + n * 30 + rng.randint(0, 20)
    attachments = []
    if not reply and n % ATTACHMENT_EVERY == 4:
        attachments = [{"file_id": openai_id(rng, "file-"), "tools": [{"type": "file_search"}]}]
    value = prose.piece(rng.randint(*(REPLY_CHARS if reply else USER_CHARS)))
    return {
        "id": openai_id(rng, "msg_"),
        "object": "thread.message",
        "created_at": created,
        "thread_id": thread["id"],
        "status": "completed",
        "incomplete_details": None,
        "completed_at": created,
        "incomplete_at": None,
        "role": "assistant" if reply else "user",
        "content": _content(rng, n, value),
        "assistant_id": rng.choice(assistants)["id"] if reply else None,
        "run_id": openai_id(rng, "run_") if reply else None,
        "attachments": attachments,
        "metadata": {"source": "web"} if n == 0 else {},
    }


def write_export(path: Path, threads: int, messages: int, *, assistants: int = 3, seed: int = 0) -> dict[str, int]:
    """``assistants`` assistants, then ``threads`` threads each followed by its ``messages`` messages, one object
    a line, into ``path``; the counts written and the file's size in bytes."""
    rng = random.Random(seed)
    average = (sum(USER_CHARS) + sum(REPLY_CHARS)) // 4
    prose = Prose(threads * messages * average + 10 * REPLY_CHARS[1], seed)
    written = [_assistant(rng, n) for n in range(assistants)]
    with path.open("w", encoding="utf-8") as out:
        for value in written:
            out.write(json.dumps(value) + "\n")
        for t in range(threads):
            thread = _thread(rng, t)
            out.write(json.dumps(thread) + "\n")
            for n in range(messages):
                out.write(json.dumps(_message(rng, prose, thread, n, written)) + "\n")
    return {"assistants": assistants, "threads": threads, "messages": threads * messages, "bytes": path.stat().st_size}
