"""Pure functions, called directly: no table (not even moto's), no API Gateway event through a handler, no
request sent. Ids and order keys (``domain.ids``), request bodies (``wire.request_bodies``), response bodies'
sizes and lists (``wire.response_bodies``), the HTTP layer's error envelope and its parsing of an event's body,
of list parameters and of the key header (``http.errors``, ``http.request``, ``http.list_params``, ``auth``),
and how a message is cut into items (the store's encoding, ``store._message_items``: no call made)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from threads_api.domain import ids, limits
from threads_api.domain.errors import BadCursor, Invalid
from threads_api.http import errors as http_errors
from threads_api.http.errors import ApiError, from_exception
from threads_api.http.list_params import page_params
from threads_api.http.request import parse_body
from threads_api.wire import request_bodies


def test_ids_are_prefixed_base62_of_24_and_unique() -> None:
    made = {ids.new_id("thread_") for _ in range(2000)}
    assert len(made) == 2000
    assert all(re.fullmatch(r"thread_[A-Za-z0-9]{24}", i) for i in made)


def test_ids_of_keyed_requests_are_derived_from_the_project_key_and_request() -> None:
    from threads_api.http.idempotency import seed

    base = ("key-1", "alpha", "POST", "/v1/threads", {"metadata": {"a": "1", "b": "2"}})
    made = ids.derived_id("thread_", seed(*base))
    assert re.fullmatch(r"thread_[A-Za-z0-9]{24}", made)
    assert ids.derived_id("thread_", seed(*base[:4], {"metadata": {"b": "2", "a": "1"}})) == made  # canonical
    others = [
        ("key-2", *base[1:]),
        (base[0], "beta", *base[2:]),
        (*base[:3], "/v1/threads/thread_x/messages", base[4]),
        (*base[:4], {"metadata": {"a": "1"}}),
    ]
    assert len({made} | {ids.derived_id("thread_", seed(*other)) for other in others}) == 5


def test_order_keys_sort_by_time_then_sequence_and_survive_clock_skew() -> None:
    keys = [ids.order_key(1_700_000_000_000, seq) for seq in range(40)]
    assert keys == sorted(keys)
    assert len(set(keys)) == 40
    assert ids.order_key(1_700_000_000_001, 0) > keys[-1]
    later = "0" * 4 + "f" * 16
    assert ids.next_order_key(1, later) > later  # a clock behind the newest message still sorts after it


def _error(model: Any, body: dict[str, Any]) -> ApiError:
    with pytest.raises((Invalid, ApiError)) as caught:
        request_bodies.parse(model, body)
    assert from_exception(caught.value).status == 400
    return from_exception(caught.value)


def test_content_string_becomes_a_text_part() -> None:
    message = request_bodies.parse(request_bodies.MessageIn, {"role": "user", "content": "hi"})
    assert message.stored_content() == [{"type": "text", "text": {"value": "hi", "annotations": []}}]
    assert message.as_new() == ("user", message.stored_content(), [], {})


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"role": "user", "content": [{"type": "text", "text": 3}]}, "content[0].text", "invalid_type"),
        (
            {"role": "user", "content": [{"type": "image_url", "image_url": {}}]},
            "content[0].image_url.url",
            "missing_required_parameter",
        ),
        (
            {"role": "user", "content": [{"type": "image_file", "image_file": {"file_id": "f", "detail": "max"}}]},
            "content[0].image_file.detail",
            "invalid_value",
        ),
        ({"role": "user", "content": [{"text": "x"}]}, "content[0].type", "missing_required_parameter"),
        (
            {"role": "user", "content": "x", "attachments": [{"file_id": "f", "tools": [{"type": "web"}]}]},
            "attachments[0].tools[0].type",
            "invalid_value",
        ),
        ({"role": "user", "content": "x", "metadata": None, "extra": True}, "extra", None),
        ({"role": 1, "content": "x"}, "role", "invalid_value"),
    ],
)
def test_message_errors_name_the_field(body: dict[str, Any], param: str, code: str | None) -> None:
    error = _error(request_bodies.MessageIn, body)
    assert error.param == param
    assert error.code == code


def test_metadata_limits_are_exact() -> None:
    at_limit = {f"{i:064d}": "v" * 512 for i in range(16)}
    assert request_bodies.parse(request_bodies.CreateThreadIn, {"metadata": at_limit}).metadata == at_limit
    assert _error(request_bodies.CreateThreadIn, {"metadata": at_limit | {"x": "y"}}).param == "metadata"


def test_modify_distinguishes_omitted_from_null() -> None:
    assert request_bodies.parse(request_bodies.ModifyThreadIn, {}).model_fields_set == set()
    assert request_bodies.parse(request_bodies.ModifyThreadIn, {"metadata": None}).model_fields_set == {"metadata"}


def test_list_parameters() -> None:
    assert page_params({}, "msg_") == page_params({"limit": "20", "order": "desc"}, "msg_")
    params = page_params({"limit": "100", "order": "asc", "after": "msg_abc"}, "msg_")
    assert (params.limit, params.order, params.after, params.before) == (100, "asc", "msg_abc", None)
    for query in ({"limit": "0"}, {"limit": "101"}, {"limit": "1.5"}, {"order": "ASC"}):
        with pytest.raises((Invalid, ApiError)):
            page_params(query, "msg_")
    with pytest.raises(BadCursor):
        page_params({"after": "thread_abc"}, "msg_")


@pytest.mark.parametrize(
    "limit",
    ["\uff11", "\u0661", "\u06f5", "\u0967", "1\u0660", "\U0001d7d9", "\u00a05", "5\u2003", "1_0", "\u00b2"],
    ids=[
        "fullwidth",
        "arabic-indic",
        "persian",
        "devanagari",
        "mixed",
        "math-bold",
        "nbsp",
        "em-space",
        "underscore",
        "superscript",
    ],
)
def test_limit_takes_ascii_digits_only(limit: str) -> None:
    with pytest.raises((Invalid, ApiError)) as caught:
        page_params({"limit": limit}, "msg_")
    assert (
        from_exception(caught.value).status,
        from_exception(caught.value).param,
        from_exception(caught.value).code,
    ) == (400, "limit", "invalid_type")


def test_limit_keeps_ascii_signs_and_spaces() -> None:
    assert page_params({"limit": " 7 "}, "msg_").limit == 7
    assert page_params({"limit": "+7"}, "msg_").limit == 7
    assert page_params({"limit": "007"}, "msg_").limit == 7


@pytest.mark.parametrize("body", ["\u00a0", "\u2003{}", "\u3000"], ids=["nbsp", "em-space", "ideographic-space"])
def test_a_body_of_unicode_spaces_is_not_an_empty_body(body: str) -> None:
    """JSON's whitespace is space, tab, CR and LF: anything else is not an empty body but malformed JSON."""
    with pytest.raises((Invalid, ApiError)) as caught:
        parse_body({"body": body})
    assert from_exception(caught.value).status == 400


def test_the_key_header_is_trimmed_of_http_whitespace_only() -> None:
    from threads_api import auth

    assert auth.key_from_headers({"authorization": "Bearer \tsk-thr-abc \t"}) == "sk-thr-abc"
    assert auth.key_from_headers({"authorization": "Bearer sk-thr-abc\u00a0"}) == "sk-thr-abc\u00a0"
    assert auth.key_from_headers({"x-portkey-api-key": "\u2003sk-thr-abc"}) == "\u2003sk-thr-abc"


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"body": None}, {}),
        ({"body": ""}, {}),
        ({"body": "  \n"}, {}),
        ({"body": '{"a": 1}'}, {"a": 1}),
        ({"body": "eyJhIjogMX0=", "isBase64Encoded": True}, {"a": 1}),
    ],
)
def test_parse_body(event: dict[str, Any], expected: dict[str, Any]) -> None:
    assert parse_body(event) == expected


def test_bodies_nest_at_most_json_max_depth_levels() -> None:
    def nested(levels: int) -> str:
        return '{"a": ' * levels + "1" + "}" * levels

    assert parse_body({"body": nested(limits.JSON_MAX_DEPTH)})
    depth = limits.JSON_MAX_DEPTH
    for body, field in (
        (nested(depth + 1), "a"),
        ('{"ok": 1, "a": ' + "[" * depth + "]" * depth + "}", "a"),
        ("[" * 3000 + "]" * 3000, None),
    ):
        with pytest.raises((Invalid, ApiError)) as caught:
            parse_body({"body": body})
        error = from_exception(caught.value)
        assert error.status == 400
        assert "nested too deeply" in error.message
        assert error.param == field


@pytest.mark.parametrize(
    "value",
    ["plain", "\u0001\u001f\x7f", '"quoted" \\ back\\slash', "\b\f\n\r\t", "é漢😀", "\u2028\u2029", "</script>"],
)
def test_sent_size_is_what_an_object_adds_to_the_serialized_result(value: str) -> None:
    """Measured against the runtime's own serialization: the result with and without the object."""
    import json

    from threads_api.wire import response_bodies

    obj = {"id": "msg_x", "metadata": {value: value * 3}, "content": [{"text": {"value": value}}]}

    def sent(data: list[Any]) -> int:
        body = json.dumps({"object": "list", "data": data}, ensure_ascii=False)
        result = {"statusCode": 200, "headers": {}, "body": body}
        return len(json.dumps(result, ensure_ascii=False).encode())

    text = json.dumps(obj, ensure_ascii=False)
    assert sent([obj]) - sent([]) == response_bodies.sent_size(text)
    assert sent([obj, obj]) - sent([obj]) == response_bodies.sent_size(text) + 2  # with the ", " between


@pytest.mark.parametrize("backwards", [False, True])
@pytest.mark.parametrize("count", [0, 1, 3])
def test_a_list_body_is_written_as_json_dumps_writes_it(count: int, backwards: bool) -> None:
    import json

    from threads_api.domain.records import Page, Thread
    from threads_api.wire import response_bodies

    threads = [Thread(f"thread_{n}", n, {"k\u0001": '"\\é😀'}, {}) for n in range(count)]
    body = response_bodies.list_object(Page(threads, False, backwards), response_bodies.thread_object)
    assert body.text == json.dumps(dict(body), ensure_ascii=False)
    assert [t["id"] for t in body["data"]] == [t.id for t in threads]


def test_a_list_cut_to_fit_keeps_the_end_nearest_its_cursor(monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from threads_api.domain.records import Page, Thread
    from threads_api.wire import response_bodies

    threads = [Thread(f"thread_{n}", n, {}, {}) for n in range(10)]
    one = response_bodies.sent_size(json.dumps(response_bodies.thread_object(threads[0]), ensure_ascii=False)) + 2
    monkeypatch.setattr(limits, "LIST_PAGE_MAX_BYTES", one * 3)
    after = response_bodies.list_object(Page(threads, False), response_bodies.thread_object)
    assert [t["id"] for t in after["data"]] == [t.id for t in threads[:3]]
    assert after["has_more"] is True
    before = response_bodies.list_object(Page(threads, False, backwards=True), response_bodies.thread_object)
    assert [t["id"] for t in before["data"]] == [t.id for t in threads[-3:]]
    assert before["has_more"] is True
    assert before.text == json.dumps(dict(before), ensure_ascii=False)
    monkeypatch.setattr(limits, "LIST_PAGE_MAX_BYTES", 1)
    assert (
        len(response_bodies.list_object(Page(threads, False), response_bodies.thread_object)["data"]) == 1
    )  # never empty


def test_error_envelope_shape() -> None:
    assert http_errors.invalid("bad", param="x", code="c").envelope() == {
        "error": {"message": "bad", "type": "invalid_request_error", "param": "x", "code": "c"}
    }
    assert http_errors.unavailable().headers == {"retry-after": "1"}


def test_large_bodies_are_split_into_parts_under_the_item_limit() -> None:
    from threads_api import store
    from threads_api.domain.records import Message

    text = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(256_000))  # poorly compressible CJK
    message = Message("msg_x", "thread_x", 0, "user", [{"type": "text", "text": {"value": text}}], [], {})
    items = store._message_items("thread_x", message, "0" * 20)
    assert len(items) > 1
    assert int(items[0]["parts"]["N"]) == len(items) - 1
    assert all(store.item_size(item) < 400 * 1024 for item in items)
    small = store._message_items("thread_x", Message("msg_y", "thread_x", 0, "user", [], [], {}), "0" * 20)
    assert len(small) == 1
    assert "body" in small[0]
    assert limits.ITEM_BODY_INLINE_BYTES < 400 * 1024


def test_accepted_image_urls_are_uris_by_rfc_3986() -> None:
    """What we accept as image_url.url must be a valid `format: uri` (OpenAI's schema), checked by the
    same Rust validator schemathesis uses, on random strings built to hit the grammar's edges."""
    import random

    import jsonschema_rs

    uri = jsonschema_rs.validator_for({"type": "string", "format": "uri"}, validate_formats=True)
    alphabet = "aZ09-._~!$&'()*+,;=:@/?#[]%` <>\"{}|\\^é"
    rng = random.Random(7)
    accepted = 0
    for _ in range(5000):
        url = rng.choice(["http://", "https://"]) + "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        if re.match(request_bodies._URL, url):
            accepted += 1
            assert uri.is_valid(url), url
    assert accepted > 200  # the check saw many accepted URLs, not just rejections
