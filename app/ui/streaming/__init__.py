"""A reply on screen while it is written, in layers: pure patches of its markdown (incremental.py), one renderer
per reply shared by every tab that shows it (live_reply.py), flow control per tab (streaming_markdown.py), and
the browser side that applies the patches (streaming_markdown.js, static/patches.js)."""
