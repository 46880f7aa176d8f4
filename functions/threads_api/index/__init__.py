"""The stack's vector bucket, where vector stores' chunks are indexed (``s3vectors``): Amazon S3 Vectors only,
one index per vector store, raising the domain's errors."""
