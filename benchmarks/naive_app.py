"""The common NiceGUI streaming pattern, for comparison only: `markdown.content += delta` for every token.

Each update re-renders the whole reply on the server and re-sends all of it to the browser.
Run by benchmarks/stream.py: `python benchmarks/naive_app.py --port PORT` with OPENAI_BASE_URL and OPENAI_API_KEY.
"""

from __future__ import annotations

import argparse
import os

import openai
from nicegui import ui


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8081)
    port = parser.parse_args().port
    client = openai.AsyncOpenAI()
    model = os.environ.get("OPENAI_MODELS", "gpt-4o-mini").split(",")[0]

    @ui.page("/")
    def page() -> None:
        messages = ui.column().classes("w-full")

        async def send() -> None:
            text, box.value = box.value, ""
            with messages:
                ui.label(text).props("data-role=user")
                with ui.element("div").props("data-role=assistant"):
                    reply = ui.markdown().classes("md-body")
            stream = await client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": text}], stream=True
            )
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    reply.content += chunk.choices[0].delta.content

        box = ui.textarea(placeholder="Message").on("keydown.enter", send)

    ui.run(host="127.0.0.1", port=port, reload=False, show=False)


if __name__ == "__main__":
    main()
