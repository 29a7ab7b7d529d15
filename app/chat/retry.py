"""How long to wait before asking a provider again, or whether to give up."""

from __future__ import annotations

import random


def retry_delay(attempt: int, retry_after: float | None, base: float, cap: float) -> float | None:
    """Seconds before retry number `attempt` (1, 2, ...): exponential with jitter, or the server's Retry-After.

    None when the server asks for a longer wait than `cap`: better to tell the person than to sit silent.
    """
    if retry_after is not None:
        return retry_after if retry_after <= cap else None
    backoff = min(cap, base * 2 ** (attempt - 1))
    # Jitter spreads the retries of many conversations that failed together.
    return backoff * random.uniform(0.75, 1.0)
