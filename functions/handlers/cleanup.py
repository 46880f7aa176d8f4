"""DynamoDB Streams consumer: removes what a deletion leaves behind (``store.purge.after_removals``), the
bytes of a file whose upload never finished (``files.operations.after_removal``: its pending item expired),
and a deleted vector store's files, index and texts (``vector_stores.purge.after_removal``).

Failures are reported per record (``ReportBatchItemFailures``) so Lambda retries only from the failed
record on; after the retries the record goes to the dead-letter queue. Every step is idempotent."""

from typing import Any

from threads_api.observability import metrics, with_lambda_context
from threads_api.store import purge
from threads_api.vector_stores import purge as vector_store_purge


@with_lambda_context
def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    failed = purge.after_removals(event.get("Records", []), vector_store_purge.after_removal)
    if metrics.metric_set:
        metrics.flush_metrics()
    return {"batchItemFailures": [{"itemIdentifier": failed}] if failed else []}
