"""What the worker sends the model of a user's message parts and of settings it does not pass on (README:
Differences from OpenAI)."""

from __future__ import annotations

from tests.unit.test_run_lifecycle import NOW, _assistant, _body
from threads_api.domain import lifecycle
from threads_api.domain.records import Message
from threads_api.runs import chat


def test_image_file_parts_are_dropped_image_url_parts_kept_and_reasoning_effort_not_sent() -> None:
    run = lifecycle.new_run("thread_1", _assistant(), _body(reasoning_effort="high"), "run_1", NOW)
    image = {"url": "https://example.com/cat.png", "detail": "auto"}
    content = [
        {"type": "text", "text": {"value": "What is this?", "annotations": []}},
        {"type": "image_file", "image_file": {"file_id": "file_1"}},
        {"type": "image_url", "image_url": image},
    ]
    question = Message("msg_1", "thread_1", NOW, "user", content, [], {}, None, None)
    body = chat.request(run, [question], {}, None)
    (sent,) = [m for m in body["messages"] if m["role"] == "user"]
    assert sent["content"] == [{"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": image}]
    assert "reasoning_effort" not in body
