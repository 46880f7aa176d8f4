"""``python -m stream_runtime``: the runtime loop, until Lambda stops the environment."""

from stream_runtime.loop import main

main()
