"""DynamoDB Streams consumer: removes what a deletion leaves behind.

- A thread item's REMOVE (a delete, or the TTL of a thread whose staged creation never finished):
  every item left in its partition.
- A large message's REMOVE: its part items.

Failures are reported per record (``ReportBatchItemFailures``) so Lambda retries only from the failed
record on; after the retries the record goes to the dead-letter queue. Every step is idempotent.
"""

from __future__ import annotations

from typing import Any

from threads_api.observability import logger, metrics, with_lambda_context
from threads_api.store import purge


@with_lambda_context
def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    for record in event.get("Records", []):
        try:
            purge.after_removal(record)
        except Exception as exc:
            logger.error("cleanup failed", extra={"error_type": type(exc).__name__})
            if metrics.metric_set:
                metrics.flush_metrics()
            return {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
    if metrics.metric_set:
        metrics.flush_metrics()
    return {"batchItemFailures": []}
