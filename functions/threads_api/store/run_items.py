"""A run's item, encoded and measured: pure functions, no DynamoDB call.

A run is one item, ``(<thread_id>#runs, run#<id>)``: ok (its creation order, which the ``by_order`` local index
sorts), prj (its project), st (its status), ver (its version), meta (its metadata, JSON), pack (what a run is
given once, at its creation: instructions, additional instructions and tools; JSON, zlib-compressed past
``RUN_PACK_ABOVE_BYTES``), outs (its tool outputs past that size, zlib-compressed: each given once) and body
(every other field, JSON as it is). A run stored before pack existed has
everything in its body; its next save writes both.

The item is measured as written against ``RUN_ITEM_MAX_BYTES``: half of DynamoDB's 400 KB, which it shares with
its copy in ``by_order``. What a request stores for the worker (``check_run_size``: a created run, tool outputs,
and the tool calls the worker asks for) must also leave room for all that the worker and a cancel add to it
(``lifecycle.fullest``) and for the largest metadata a modify may give it (``metadata_room``): a run accepted
can always be taken, ended and cancelled. What grows is in the body, uncompressed, so that room is exact.
"""

from __future__ import annotations

import dataclasses
import json
import zlib
from typing import TYPE_CHECKING

from threads_api.domain import clock, ids, lifecycle, limits
from threads_api.domain.errors import TooLarge
from threads_api.domain.records import JsonObject, Run
from threads_api.store.items import dumps, item_size, utf8

if TYPE_CHECKING:
    from threads_api.store.items import Item

RUN_PREFIX = "run#"
# What the run's body holds: every field but those with an attribute of their own, and those packed.
_OWN_ATTRIBUTES = {"id", "thread_id", "metadata", "status", "version"}
_PACKED = ("instructions", "additional_instructions", "tools")  # given at creation, never changed
# An ``ok`` as long as the creation order's keys, for measuring an item written without one (a save's update).
_OK_MEASURED = "0" * len(ids.order_key(0, 0) + "00000000")


def runs_partition(thread_id: str) -> str:
    return f"{thread_id}#runs"


def run_key(thread_id: str, run_id: str) -> Item:
    return {"pk": {"S": runs_partition(thread_id)}, "sk": {"S": f"{RUN_PREFIX}{run_id}"}}


def run_item(project: str, run: Run, ok: str, *, headroom: int = 0) -> Item:
    """The run's item; one larger than DynamoDB can hold (vast instructions, tools or tool outputs) is a 400.
    ``headroom``: bytes the item must leave free besides."""
    item = _encoded(project, run, ok or _OK_MEASURED)  # a save's update writes no ok: the item keeps its own
    size = item_size(item)
    if size + headroom > limits.RUN_ITEM_MAX_BYTES:
        raise TooLarge(
            f"The run is too large to store: its instructions, tools, tool calls and tool outputs take "
            f"{size} bytes as stored, and a run holds at most {limits.RUN_ITEM_MAX_BYTES - headroom}.",
            size=size,
            bound=limits.RUN_ITEM_MAX_BYTES - headroom,
            code="run_too_large",
        )
    return item


def _moved_outputs(body: JsonObject) -> dict[str, str]:
    """The tool outputs past ``RUN_PACK_ABOVE_BYTES``, taken out of the body's steps (``None`` left in their
    place), keyed ``<step id>/<call id>`` (a model may reuse a call's id in another round). An output is
    given once, at its submission, and never changes: compressed apart, its room stays exact."""
    moved: dict[str, str] = {}
    for step in body.get("steps") or []:
        for call in (step.get("step_details") or {}).get("tool_calls") or []:
            function = call.get("function") or {}
            output = function.get("output")
            if isinstance(output, str) and len(output.encode()) > limits.RUN_PACK_ABOVE_BYTES:
                moved[f"{step['id']}/{call['id']}"] = output
                function["output"] = None
    return moved


def _put_back(body: JsonObject, moved: dict[str, str]) -> None:
    for step in body.get("steps") or []:
        for call in (step.get("step_details") or {}).get("tool_calls") or []:
            key = f"{step['id']}/{call['id']}"
            if key in moved:
                call["function"]["output"] = moved[key]


def _encoded(project: str, run: Run, ok: str) -> Item:
    body = {k: v for k, v in dataclasses.asdict(run).items() if k not in _OWN_ATTRIBUTES}
    packed = utf8({name: body.pop(name) for name in _PACKED})
    small = len(packed) <= limits.RUN_PACK_ABOVE_BYTES
    outputs = zlib.compress(utf8(_moved_outputs(body)), 6)
    return {
        **run_key(run.thread_id, run.id),
        "ok": {"S": ok},
        "prj": {"S": project},
        "st": {"S": run.status},
        "ver": {"N": str(run.version)},
        "meta": {"S": dumps(run.metadata)},
        "pack": {"S": packed.decode()} if small else {"B": zlib.compress(packed, 6)},
        "outs": {"B": outputs},
        "body": {"S": dumps(body)},
    }


def stored_size(project: str, run: Run) -> int:
    """The size of the run's item as written (what it was given compressed when large), unchecked."""
    return item_size(_encoded(project, run, _OK_MEASURED))


def metadata_room(run: Run) -> int:
    """What a modify of the run's metadata may still add to its item (it writes without reading the run)."""
    return max(0, limits.METADATA_MAX_STORED_BYTES - len(dumps(run.metadata).encode()))


def check_run_size(project: str, run: Run) -> None:
    """A 400 now for a run that a request would store without room for what comes next: the worker's claim
    and its end (a reply step, usage, an error, every stamp), a cancel, and the largest metadata. Before
    anything else is written."""
    now = clock.now()
    fullest = item_size(_encoded(project, lifecycle.fullest(run, now), _OK_MEASURED))
    room = metadata_room(run)
    if fullest + room > limits.RUN_ITEM_MAX_BYTES:
        size = item_size(_encoded(project, run, _OK_MEASURED))
        raise TooLarge(
            f"The run is too large to store: its instructions, tools, tool calls and tool outputs take {size} "
            f"bytes as stored, and with the room a run needs to run and end (its status, steps, usage and error, "
            f"and metadata of up to {limits.METADATA_MAX_STORED_BYTES} bytes) it would take {fullest + room}, "
            f"where a run holds at most {limits.RUN_ITEM_MAX_BYTES}.",
            size=fullest + room,
            bound=limits.RUN_ITEM_MAX_BYTES,
            code="run_too_large",
        )


def run_from_item(item: Item) -> Run:
    pack = item.get("pack")
    packed = {} if pack is None else json.loads(zlib.decompress(pack["B"]) if "B" in pack else pack["S"])
    body = json.loads(item["body"]["S"])
    if "outs" in item:  # a run stored before outs existed has its outputs in its body
        _put_back(body, json.loads(zlib.decompress(item["outs"]["B"])))
    return Run(
        id=item["sk"]["S"][len(RUN_PREFIX) :],
        thread_id=item["pk"]["S"].removesuffix("#runs"),
        status=item["st"]["S"],
        version=int(item["ver"]["N"]),
        metadata=json.loads(item["meta"]["S"]),
        **packed,
        **body,
    )
