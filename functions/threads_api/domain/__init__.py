"""The domain: records (threads, messages, assistants, runs), the run's lifecycle, limits, ids, the clock and
the domain's errors. Pure: it imports nothing else of threads_api, knows no HTTP status and no DynamoDB."""
