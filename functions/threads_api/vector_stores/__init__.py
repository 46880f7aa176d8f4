"""Vector stores' use cases: adding files and ingesting them, searching, deleting what a store or a file leaves."""
