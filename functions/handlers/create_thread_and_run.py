"""POST /threads/runs"""

from threads_api import store
from threads_api.domain import ids, lifecycle
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.observability import logger
from threads_api.runs import events, launch
from threads_api.wire import response_bodies
from threads_api.wire.request_bodies import parse
from threads_api.wire.run_bodies import ThreadAndRunIn


@endpoint("create_thread_and_run", parses_body=True, idempotent=True)
def handler(request: Request) -> Body:
    body = parse(ThreadAndRunIn, request.body)
    assistant = store.get_assistant(request.project, body.assistant_id)  # before the thread: a 404 writes nothing
    given = body.thread
    thread_id = request.created_id("thread_") or ids.new_id("thread_")
    run_id = request.created_id("run_")
    run = lifecycle.new_run(thread_id, assistant, body.overrides(), run_id, store.now_ms() // 1000)
    store.check_run_size(request.project, run)  # before the thread: a run too large to store writes nothing
    thread, _ = store.create_thread(
        request.project,
        (given.metadata if given else None) or {},
        given.tool_resources.stored() if given and given.tool_resources else {},
        [m.as_new() for m in (given.messages or [])] if given else [],
        thread_id=thread_id,
    )
    try:
        run = store.create_run(request.project, run, keyed=run_id is not None)
    except Exception:
        if run_id is None:  # unkeyed, a retry would make another thread: this one is taken back first
            _take_back(request.project, thread.id)
        raise
    prelude = [events.sse("thread.created", response_bodies.thread_object(thread))]
    return launch.started(
        request.project,
        run,
        stream=bool(body.stream),
        seconds_left=request.seconds_left(),
        sink=request.stream_sink(),
        prelude=prelude,
    )


def _take_back(project: str, thread_id: str) -> None:
    """Delete the thread a failed request made (its messages go with the purge), so that the request wrote
    nothing; if that fails too, the error the client gets is still the run's."""
    try:
        store.delete_thread(project, thread_id)
    except Exception:
        logger.exception("thread not taken back", extra={"thread_id": thread_id})
