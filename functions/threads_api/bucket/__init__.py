"""The stack's S3 bucket, where files' bytes are kept (``s3``): S3 only, raising the domain's errors."""
