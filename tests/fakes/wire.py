"""The bytes each provider really sends: JSON bodies and server-sent events for OpenAI, Anthropic and Together."""

from __future__ import annotations

import json
import time

FINISH_REASONS = {
    "openai": {"stop": "stop", "length": "length", "tool_calls": "tool_calls"},
    "ollama": {"stop": "stop", "length": "length", "tool_calls": "tool_calls"},
    "together": {"stop": "eos", "length": "length", "tool_calls": "tool_calls"},
    "anthropic": {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"},
    "gemini": {"stop": "STOP", "length": "MAX_TOKENS", "tool_calls": "STOP"},  # Gemini ends calls with STOP too
}
# Google's RPC status names, which Gemini's errors carry beside the HTTP status.
GOOGLE_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def fragments(text: str, pieces: int) -> list[str]:
    """`text` cut into `pieces` parts (some may be empty), as a model streams a call's arguments."""
    size = max(1, -(-len(text) // max(1, pieces)))
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def sse(data: dict | str, event: str | None = None) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


def error_body(dialect: str, status: int, message: str, error_type: str, retry_after: str | None = None) -> dict:
    if dialect == "gemini":
        # Gemini says how long to wait in a RetryInfo detail, not in a Retry-After header.
        details = [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{retry_after}s"}]
        inner = {"code": status, "message": message, "status": GOOGLE_STATUS.get(status, "UNKNOWN")}
        if error_type == "API_KEY_INVALID":  # a wrong key: a 400 whose ErrorInfo gives the reason
            details = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}]
        return {"error": {**inner, "details": details} if retry_after or error_type == "API_KEY_INVALID" else inner}
    if dialect == "anthropic":
        return {"type": "error", "error": {"type": error_type, "message": message}, "request_id": "req_fake"}
    return {
        "error": {"message": message, "type": error_type, "param": None, "code": error_type if status == 429 else None}
    }


def models_body(dialect: str, models: list[str]) -> object:
    if dialect == "gemini":
        chat = ["generateContent", "countTokens"]
        listed = [{"name": f"models/{m}", "displayName": m, "supportedGenerationMethods": chat} for m in models]
        embedding = {"name": "models/text-embedding-004", "supportedGenerationMethods": ["embedContent"]}
        return {"models": [*listed, embedding]}
    if dialect == "anthropic":
        data = [{"type": "model", "id": m, "display_name": m, "created_at": "2025-05-14T00:00:00Z"} for m in models]
        return {
            "data": data,
            "has_more": False,
            "first_id": models[0] if models else None,
            "last_id": models[-1] if models else None,
        }
    if dialect == "together":
        return [
            {
                "id": m,
                "object": "model",
                "created": 0,
                "type": "chat",
                "display_name": m,
                "organization": "fake",
                "context_length": 8192,
            }
            for m in models
        ]
    owner = "library" if dialect == "ollama" else "fake"
    return {"object": "list", "data": [{"id": m, "object": "model", "created": 0, "owned_by": owner} for m in models]}


class ChunkEncoder:
    """Encodes one streamed reply, piece by piece, in a provider's own event sequence."""

    def __init__(self, dialect: str, model: str, include_usage: bool) -> None:
        self.dialect = dialect
        self.model = model
        self.include_usage = include_usage
        self.created = int(time.time())
        self.text_block_open = True  # Anthropic's first content block, closed at the end or before a tool call

    def _openai_chunk(
        self, delta: dict, finish: str | None = None, usage: dict | None = None, choices: bool = True
    ) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        if self.dialect == "ollama":
            # Ollama names the role in every delta and sends neither logprobs nor a usage field until asked.
            choice = {"index": 0, "delta": {"role": "assistant", "content": "", **delta}, "finish_reason": finish}
        if self.dialect == "together":
            choice = {
                "index": 0,
                "text": delta.get("content", ""),
                "logprobs": None,
                "finish_reason": finish,
                "seed": None,
                "delta": {"token_id": 1, "role": "assistant", "tool_calls": None, **delta},
            }
        chunk = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": "fp_ollama" if self.dialect == "ollama" else "fp_fake",
            "choices": [choice] if choices else [],
            "usage": usage,
        }
        if self.dialect == "ollama" and usage is None:
            del chunk["usage"]
        return sse(chunk)

    def _gemini_chunk(self, parts: list[dict], finish: str | None = None, usage: dict | None = None) -> bytes:
        candidate: dict = {"content": {"parts": parts, "role": "model"}, "index": 0}
        if finish:
            candidate["finishReason"] = finish
        chunk = {"candidates": [candidate], "usageMetadata": usage or self.gemini_usage, "modelVersion": self.model}
        return sse({**chunk, "responseId": "fake-response"})

    def start(self, input_tokens: int) -> bytes:
        self.gemini_usage = {"promptTokenCount": input_tokens, "totalTokenCount": input_tokens}
        if self.dialect == "gemini":
            return b""
        if self.dialect == "anthropic":
            message = {
                "id": "msg_fake",
                "type": "message",
                "role": "assistant",
                "content": [],
                "model": self.model,
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": input_tokens, "output_tokens": 1},
            }
            return (
                sse({"type": "message_start", "message": message}, "message_start")
                + sse(
                    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
                    "content_block_start",
                )
                + sse({"type": "ping"}, "ping")
            )
        if self.dialect in ("together", "ollama"):
            return b""
        return self._openai_chunk({"role": "assistant", "content": "", "refusal": None})

    def token(self, text: str) -> bytes:
        if self.dialect == "gemini":
            return self._gemini_chunk([{"text": text}])
        if self.dialect == "anthropic":
            delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}
            return sse(delta, "content_block_delta")
        return self._openai_chunk({"content": text})

    def tool_calls(self, calls: list) -> bytes:
        """Calls after the text, in parallel, each provider's way: OpenAI and Together send an index's id and name
        first, then argument fragments under that index; Ollama sends each call whole, every one at index 0;
        Anthropic opens a `tool_use` block per call, streams `input_json_delta` (the first one empty, pings
        between), and closes it."""
        if self.dialect == "gemini":  # whole calls, in one chunk
            return self._gemini_chunk(
                [{"functionCall": {"id": c.id, "name": c.name, "args": _object(c.arguments)}} for c in calls]
            )
        if self.dialect == "anthropic":
            self.text_block_open = False  # the text block closes before the first tool_use block opens
            close_text = sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
            return close_text + b"".join(self._anthropic_tool_use(n, call) for n, call in enumerate(calls, start=1))
        if self.dialect == "ollama":
            return b"".join(
                self._openai_chunk(
                    {
                        "tool_calls": [
                            self._call_start(0, call) | {"function": {"name": call.name, "arguments": call.arguments}}
                        ]
                    }
                )
                for call in calls
            )
        out = b""
        for index, call in enumerate(calls):
            out += self._openai_chunk({"tool_calls": [self._call_start(index, call)]})
        for index, call in enumerate(calls):  # interleaved with the others', as parallel calls come
            for piece in fragments(call.arguments, call.pieces):
                out += self._openai_chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
        return out

    @staticmethod
    def _call_start(index: int, call) -> dict:
        return {"index": index, "id": call.id, "type": "function", "function": {"name": call.name, "arguments": ""}}

    def _anthropic_tool_use(self, index: int, call) -> bytes:
        block = {"type": "tool_use", "id": call.id, "name": call.name, "input": {}}
        out = sse({"type": "content_block_start", "index": index, "content_block": block}, "content_block_start")
        for piece in ["", *fragments(call.arguments, call.pieces)]:
            delta = {
                "type": "content_block_delta",
                "index": index,
                "delta": {"type": "input_json_delta", "partial_json": piece},
            }
            out += sse(delta, "content_block_delta") + sse({"type": "ping"}, "ping")
        return out + sse({"type": "content_block_stop", "index": index}, "content_block_stop")

    def keep_alive(self) -> bytes:
        """What servers send between tokens: a ping, or an OpenAI-style chunk with no choices."""
        if self.dialect == "anthropic":
            return sse({"type": "ping"}, "ping")
        if self.dialect in ("ollama", "gemini"):
            return b""
        return self._openai_chunk({}, choices=False)

    def finish(self, reason: str, input_tokens: int, output_tokens: int) -> bytes:
        wire_reason = FINISH_REASONS[self.dialect].get(reason, reason)
        usage = {
            "prompt_tokens": input_tokens,
            "completion_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens,
        }
        if self.dialect == "gemini":
            total = {"candidatesTokenCount": output_tokens, "totalTokenCount": input_tokens + output_tokens}
            return self._gemini_chunk([{"text": ""}], wire_reason, {"promptTokenCount": input_tokens, **total})
        if self.dialect == "anthropic":
            close_text = sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
            return (
                (close_text if self.text_block_open else b"")
                + sse(
                    {
                        "type": "message_delta",
                        "delta": {"stop_reason": wire_reason, "stop_sequence": None},
                        "usage": {"output_tokens": output_tokens},
                    },
                    "message_delta",
                )
                + sse({"type": "message_stop"}, "message_stop")
            )
        if self.dialect == "together":
            # Together sends usage on its last chunk without being asked.
            return self._openai_chunk({"content": ""}, wire_reason, usage) + sse("[DONE]")
        last = self._openai_chunk({}, wire_reason)
        if self.include_usage:
            last += self._openai_chunk({}, usage=usage, choices=False)
        return last + sse("[DONE]")

    def error(self, message: str, error_type: str) -> bytes:
        if self.dialect == "gemini":
            return sse({"error": {"code": 503, "message": message, "status": "UNAVAILABLE"}})
        if self.dialect == "anthropic":
            return sse({"type": "error", "error": {"type": error_type, "message": message}}, "error")
        return sse({"error": {"message": message, "type": error_type, "param": None, "code": None}})


def _object(arguments: str) -> dict:
    """Gemini sends a call's arguments as an object, never as broken text."""
    try:
        parsed = json.loads(arguments)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
