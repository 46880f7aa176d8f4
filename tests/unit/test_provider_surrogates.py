"""Text an OpenAI-compatible provider sends as JSON escapes of UTF-16 surrogates (``"\\ud83d\\ude00"``), a pair
split across two stream chunks or a half never paired: the pair joined into its character, a lone half replaced
with U+FFFD, never a string that cannot be stored (the run would fail on it)."""

from __future__ import annotations

import json

from infra.ops.chat_server import ChatServer, Reply
from tests.unit.provider_support import HELLO, provider, soon

GRIN = "\U0001f600"  # 😀: "\ud83d\ude00" in JSON's escapes


def _stream(*deltas: str, finish: str = "stop") -> Reply:
    """A streamed answer as its raw bytes: each delta's JSON as written (escapes kept), then the finish."""
    chunk = '{"object":"chat.completion.chunk","choices":[{"index":0,"delta":%s,"finish_reason":null}]}'
    events = [chunk % delta for delta in deltas]
    last = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}
    events.append(json.dumps(last))
    return Reply(raw="".join(f"data: {event}\n\n" for event in [*events, "[DONE]"]).encode())


def _storable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def test_an_emoji_split_across_two_chunks_is_joined_and_the_text_so_far_is_always_storable(
    server: ChatServer,
) -> None:
    server.script(_stream(r'{"content":"Hi \ud83d"}', r'{"content":"\ude00 there"}'))
    heard: list[str] = []
    result = provider(server).complete(HELLO, deadline=soon(), stream=True, on_text=heard.append)
    assert result.text == f"Hi {GRIN} there"
    assert heard == ["Hi ", f"Hi {GRIN} there"]  # the high half waits for its pair
    assert all(_storable(t) and result.text.startswith(t) for t in heard)


def test_a_lone_half_that_never_gets_its_pair_is_replaced_and_the_answer_completes(server: ChatServer) -> None:
    server.script(
        _stream(r'{"content":"a\ud83d"}', r'{"content":"b"}'),  # a high half, then no low one
        _stream(r'{"content":"\ude00c"}'),  # a low half alone
        _stream(r'{"content":"end\ud83d"}'),  # a high half last
    )
    texts = [provider(server).complete(HELLO, deadline=soon(), stream=True).text for _ in range(3)]
    assert texts == ["a\ufffdb", "\ufffdc", "end\ufffd"]


def test_a_pair_split_across_a_tool_calls_argument_chunks_is_joined(server: ChatServer) -> None:
    call = r'{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"say","arguments":"%s"}}]}'
    more = r'{"tool_calls":[{"index":0,"function":{"arguments":"%s"}}]}'
    server.script(_stream(call % r"{\"text\": \"\ud83d", more % r"\ude00\ud83d\"}", finish="tool_calls"))
    result = provider(server).complete(HELLO, deadline=soon(), stream=True)
    (called,) = result.tool_calls
    assert json.loads(called.arguments) == {"text": f"{GRIN}\ufffd"}


def test_an_unstreamed_answer_with_a_lone_half_is_replaced_too(server: ChatServer) -> None:
    body = r'{"object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"x\udc00"},'
    body += r'"finish_reason":"stop"}]}'
    server.script(Reply(raw=body.encode()))
    assert provider(server).complete(HELLO, deadline=soon()).text == "x\ufffd"
