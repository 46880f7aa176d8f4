"""DynamoDB Streams consumer: removes what a deletion leaves behind (``store.purge.after_removals``), and the
bytes of a file whose upload never finished (``files.operations.after_removal``: its pending item expired).

Failures are reported per record (``ReportBatchItemFailures``) so Lambda retries only from the failed
record on; after the retries the record goes to the dead-letter queue. Every step is idempotent."""

from typing import Any

from threads_api.files import operations
from threads_api.observability import metrics, with_lambda_context
from threads_api.store import purge


@with_lambda_context
def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    failed = purge.after_removals(event.get("Records", []), operations.after_removal)
    if metrics.metric_set:
        metrics.flush_metrics()
    return {"batchItemFailures": [{"itemIdentifier": failed}] if failed else []}
