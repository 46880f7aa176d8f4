"""One thin module per API operation: parse, call the store, shape the response."""
