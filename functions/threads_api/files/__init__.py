"""The Files API's use cases that span the table and the bucket (``operations``): a file's bytes and its item
written, read and deleted in the order that never shows half of a file."""
