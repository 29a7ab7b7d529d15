"""The code stays easy to pick up: no function in the app branches more than radon's grade B allows (10)."""

from __future__ import annotations

from pathlib import Path

from radon.complexity import cc_rank, cc_visit

APP = Path(__file__).resolve().parents[1] / "app"


def blocks(code: str):
    """Every function, method, closure and class radon grades."""
    pending = list(cc_visit(code))
    while pending:
        block = pending.pop()
        yield block
        pending.extend(getattr(block, "methods", []))
        pending.extend(getattr(block, "closures", []))


def test_no_function_in_the_app_is_more_complex_than_grade_b():
    too_complex = sorted(
        {
            f"{path.relative_to(APP.parent)}:{block.lineno} {block.name} ({cc_rank(block.complexity)})"
            for path in APP.rglob("*.py")
            for block in blocks(path.read_text())
            if cc_rank(block.complexity) > "B"
        }
    )

    assert too_complex == []
