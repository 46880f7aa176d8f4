"""``make bench``: the performance figures of issue 5, measured side by side on this machine."""
