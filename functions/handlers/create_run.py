"""POST /threads/{thread_id}/runs"""

from threads_api import store
from threads_api.domain import ids, lifecycle
from threads_api.domain.records import Message
from threads_api.http.endpoint import Body, Request, endpoint
from threads_api.runs import launch
from threads_api.wire.request_bodies import parse
from threads_api.wire.run_bodies import RunIn


@endpoint("create_run", parses_body=True, idempotent=True)
def handler(request: Request) -> Body:
    thread_id = request.object_id("thread_id", "thread")
    body = parse(RunIn, request.body)
    assistant = store.get_assistant(request.project, body.assistant_id)
    now = store.now_ms() // 1000
    run_id = request.created_id("run_")
    run = lifecycle.new_run(thread_id, assistant, body.overrides(), run_id, now)
    messages = [Message(ids.new_id("msg_"), thread_id, now, *m.as_new()) for m in body.additional_messages or []]
    try:
        run = store.create_run(request.project, run, messages, keyed=run_id is not None)
    except store.ActiveRun as busy:  # perhaps this request's own run, if its first attempt failed after writing
        launch.hand_over_if_queued(request.project, thread_id, busy.run_id)
        raise
    return launch.started(
        request.project, run, stream=bool(body.stream), seconds_left=request.seconds_left(), sink=request.stream_sink()
    )
