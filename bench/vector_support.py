"""The vector stores' bench on moto (bench/vector_stores.py, bench/retrieval.py): a fresh moto with the table,
the files bucket and the vector bucket; files added to a store through the real use cases and ingested by the
real worker's code; generated English text; an embedder that answers at once; and the time spent inside the
functions ingestion calls, by stage."""

from __future__ import annotations

import json
import math
import os
import random
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "fixtures" / "retrieval_corpus.json"
PROJECT = "bench"
DIMENSIONS = 1024  # the local embedder's
# English's commonest words, about four in ten of a text's words.
COMMON = "the of and to a in is it that for on with as was by at be this are from or an which not".split()  # noqa: SIM905
STAGES = ("read", "parse", "chunk", "embed", "index writes", "parsed text write", "table")  # in ingestion's order


class Queue:
    """Lambda, as ``threads_api.vector_stores.starter`` sees it: each worker event kept, for the bench to run."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def invoke(self, **params: Any) -> dict[str, Any]:
        self.events.append(json.loads(params["Payload"]))
        return {"StatusCode": 202}


@contextmanager
def world() -> Iterator[Queue]:
    """A fresh moto with the table, the files bucket and the vector bucket; the worker's hand-overs queued."""
    import boto3
    from moto import mock_aws

    from infra.local import dynamodb as local_dynamodb
    from infra.local import moto_patches
    from threads_api import store
    from threads_api.vector_stores import starter

    os.environ.setdefault("BUCKET_NAME", "bench-files")
    os.environ.setdefault("VECTOR_BUCKET_NAME", "bench-vectors")
    moto_patches.apply()
    queue = Queue()
    with mock.patch.object(starter, "_client", lambda: queue), mock_aws():
        local_dynamodb.create_table(boto3.client("dynamodb"), store.TABLE)
        boto3.client("s3").create_bucket(Bucket=os.environ["BUCKET_NAME"])
        local_dynamodb.create_vector_bucket(boto3.client("s3vectors"), os.environ["VECTOR_BUCKET_NAME"])
        yield queue


def new_store() -> str:
    from threads_api.vector_stores import operations
    from threads_api.wire import vector_store_bodies

    return operations.create_store(PROJECT, vector_store_bodies.new_vector_store({})).id


def add_file(store_id: str, filename: str, data: bytes) -> str:
    """A file of the project, added to the store (its ingestion queued); its id."""
    from threads_api.files import operations as files
    from threads_api.vector_stores import operations
    from threads_api.wire import vector_store_bodies

    file_id = files.create_file(PROJECT, filename, "assistants", data).id
    operations.add_file(PROJECT, store_id, vector_store_bodies.new_store_file({"file_id": file_id}))
    return file_id


def work(queue: Queue, embedder: Any) -> None:
    """Run the queued ingestions, as the worker would, each with its 15 minutes ahead."""
    from threads_api.vector_stores import ingestion

    while queue.events:
        ingestion.on_event(queue.events.pop(0), embedder, lambda: 900.0)


def vocabulary() -> list[str]:
    """The corpus's words (English, on thirty topics)."""
    texts = " ".join(d["text"] for d in json.loads(CORPUS.read_text())["documents"])
    return sorted({w.lower() for w in re.findall(r"[A-Za-z]+", texts)})


def text(chars: int, seed: int) -> str:
    """``chars`` characters of sentences, in paragraphs: four words in ten of ``COMMON``, the others of the
    corpus's, as English prose runs (its commonest words are about that share of it), so that it makes about as
    many tokens a MB as prose does."""
    words, rng = vocabulary(), random.Random(seed)
    out: list[str] = []
    length = 0
    while length < chars:
        picked = (rng.choice(COMMON if rng.random() < 0.4 else words) for _ in range(rng.randint(8, 20)))
        out.append(" ".join(picked).capitalize() + (".\n\n" if rng.random() < 0.15 else ". "))
        length += len(out[-1])
    return "".join(out)[:chars]


class Instant:
    """An embedder that answers at once: every text is the same fixed unit vector (dense, as a model's are, so
    that writing it costs what writing a real one does)."""

    name = "bench-instant"
    dimensions = DIMENSIONS

    def __init__(self) -> None:
        rng = random.Random(1024)
        raw = [rng.gauss(0.0, 1.0) for _ in range(DIMENSIONS)]
        norm = math.sqrt(sum(x * x for x in raw))
        self.vector = [x / norm for x in raw]

    def embed(self, texts: list[str], *, deadline: float) -> list[list[float]]:
        return [self.vector] * len(texts)


class Stages:
    """Seconds spent inside functions, by stage, and what they returned, while ``timing`` them; and of those
    seconds, the ones spent inside moto (``served``: the AWS services' side, emulated in process; in AWS, a
    network call's wait), by the stage that called it ("other" outside the stages)."""

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.served: defaultdict[str, float] = defaultdict(float)
        self.returned: dict[str, list[Any]] = {}
        self._active = "other"

    def clear(self) -> None:
        self.seconds.clear()
        self.served.clear()

    def timed(self, stage: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start, outer, self._active = time.perf_counter(), self._active, stage
            try:
                result = function(*args, **kwargs)
            finally:
                self.seconds[stage] += time.perf_counter() - start
                self._active = outer
            self.returned.setdefault(stage, []).append(result)
            return result

        return timed

    def _in_moto(self, process: Callable[..., Any]) -> Callable[..., Any]:
        def timed(stubber: Any, request: Any) -> Any:
            start = time.perf_counter()
            try:
                return process(stubber, request)
            finally:
                self.served[self._active] += time.perf_counter() - start

        return timed

    @contextmanager
    def timing(self, where: list[tuple[str, Any, str]]) -> Iterator[None]:
        """Each ``(stage, owner, name)``: ``owner.name`` timed as ``stage`` (replaced while this lasts)."""
        from moto.core.botocore_stubber import BotocoreStubber

        with ExitStack() as stack:
            for stage, owner, name in where:
                stack.enter_context(mock.patch.object(owner, name, self.timed(stage, getattr(owner, name))))
            process = BotocoreStubber.process_request
            stack.enter_context(mock.patch.object(BotocoreStubber, "process_request", self._in_moto(process)))
            yield


def ingestion_stages(embedder: Any) -> list[tuple[str, Any, str]]:
    """What ingestion calls, by stage, each where ingestion looks it up."""
    from threads_api.bucket import s3
    from threads_api.index import s3vectors
    from threads_api.ingest import chunking, parsing
    from threads_api.store import store_file_states, store_files
    from threads_api.vector_stores import operations

    return [
        ("read", operations, "file_bytes"),
        ("parse", parsing, "extract_text"),
        ("chunk", chunking, "chunk"),
        ("embed", embedder, "embed"),
        ("index writes", s3vectors, "create_index"),
        ("index writes", s3vectors, "put_vectors"),
        ("parsed text write", s3, "put_object"),
        ("table", store_files, "find_item"),
        ("table", store_file_states, "finish"),
    ]
