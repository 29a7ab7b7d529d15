"""Run the three fake providers by hand, for trying the app without keys: `python -m tests.fakes.serve`."""

from __future__ import annotations

import time

from tests.fakes.provider_server import FakeProviderServer, Reply

DEMO_REPLY = (
    "Here is **markdown**, streamed token by token.\n\n| provider | format |\n|---|---|\n| fake | SSE |\n\n"
    "```python\nprint('hello')\n```\n"
)


def main() -> None:
    servers = {name: FakeProviderServer(name).start() for name in ("openai", "anthropic", "together")}
    for server in servers.values():
        server.play(*[Reply(tokens=list(DEMO_REPLY), delay=0.02) for _ in range(1000)])
    for name, server in servers.items():
        print(f"{name.upper()}_API_KEY={server.api_key} {name.upper()}_BASE_URL={server.base_url}")
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
