"""Tools that work offline, off until the person turns them on: a calculator (a small evaluator over Python's
own parser, with limits on size and work; never `eval`) and the current date and time. None runs code."""

from __future__ import annotations

import ast
import math
import operator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.providers.base import ToolSpec
from app.tools.base import ToolOutput, failed

LONGEST_EXPRESSION = 500  # characters
MOST_STEPS = 200  # nodes of the parsed expression
LARGEST_NUMBER = 10**100  # beyond it a result is refused: the work to make one grows with its size
LARGEST_EXPONENT = 1000

OPERATORS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
SIGNS = {ast.UAdd: operator.pos, ast.USub: operator.neg}
FUNCTIONS = {
    "sqrt": math.sqrt,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "asin": math.asin,
    "acos": math.acos,
    "atan": math.atan,
    "log": math.log,
    "log10": math.log10,
    "exp": math.exp,
    "abs": abs,
    "round": round,
    "floor": math.floor,
    "ceil": math.ceil,
    "min": min,
    "max": max,
}
CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau}


class NotCalculable(ValueError):
    """The expression is not arithmetic this calculator does, or asks too much of it: the message says which."""


def calculate(expression: str) -> int | float:
    if len(expression) > LONGEST_EXPRESSION:
        raise NotCalculable(f"The expression is longer than {LONGEST_EXPRESSION} characters.")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as error:
        raise NotCalculable(f"That is not an arithmetic expression ({error.msg}).") from None
    if sum(1 for _ in ast.walk(tree)) > MOST_STEPS:
        raise NotCalculable(f"The expression has more than {MOST_STEPS} parts.")
    return _value(tree.body)


def _value(node: ast.AST) -> int | float:
    reader = READERS.get(type(node))
    value = reader(node) if reader is not None else None
    if value is None:
        raise NotCalculable(f"“{ast.unparse(node)[:40]}” is not arithmetic this calculator does.")
    return value


def _constant(node: ast.Constant) -> int | float | None:
    return _checked(node.value) if type(node.value) in (int, float) else None


def _name(node: ast.Name) -> float | None:
    return CONSTANTS.get(node.id)


def _unary(node: ast.UnaryOp) -> int | float | None:
    sign = SIGNS.get(type(node.op))
    return sign(_value(node.operand)) if sign is not None else None


def _call(node: ast.Call) -> int | float | None:
    function = FUNCTIONS.get(node.func.id) if isinstance(node.func, ast.Name) else None
    if function is None:
        return None
    if node.keywords:
        raise NotCalculable("Functions take plain arguments here.")
    return _checked(function(*(_value(argument) for argument in node.args)))


def _binary(node: ast.BinOp) -> int | float | None:
    left, right = _value(node.left), _value(node.right)
    if type(node.op) not in OPERATORS:
        return None
    if isinstance(node.op, ast.Pow) and (abs(right) > LARGEST_EXPONENT or (abs(left) > 1 and abs(right) > 330)):
        raise NotCalculable("That power is too large to work out.")
    return _checked(OPERATORS[type(node.op)](left, right))


def _checked(value: object) -> int | float:
    if isinstance(value, complex) or not isinstance(value, int | float):
        raise NotCalculable("The result is not a real number.")
    if isinstance(value, int) and abs(value) > LARGEST_NUMBER:
        raise NotCalculable("The result is too large.")
    return value


# How each kind of node the calculator reads is worked out; any other kind is refused.
READERS = {ast.Constant: _constant, ast.Name: _name, ast.UnaryOp: _unary, ast.BinOp: _binary, ast.Call: _call}

CALCULATOR = ToolSpec(
    "calculator",
    "Works out an arithmetic expression: + - * / // % **, parentheses, pi, e, and sqrt, sin, cos, tan, asin, acos, "
    "atan, log, log10, exp, abs, round, floor, ceil, min, max. Example: sqrt(2) * 10 ** 3.",
    {"type": "object", "properties": {"expression": {"type": "string"}}, "required": ["expression"]},
)
CURRENT_TIME = ToolSpec(
    "current_time",
    "The current date and time, in a timezone (an IANA name such as Europe/Paris; UTC if none is given).",
    {"type": "object", "properties": {"timezone": {"type": "string"}}},
)


BUILTINS = {"calculator": CALCULATOR, "time": CURRENT_TIME}  # by the names BUILTIN_TOOLS takes


class BuiltinTools:
    """The built-in tools turned on (BUILTIN_TOOLS: `calculator`, `time`). Both only read: they may be allowed
    always."""

    name = "built-in"
    read_only = True

    def __init__(self, enabled: set[str]) -> None:
        self.turn_on(enabled)

    def turn_on(self, names: set[str]) -> None:
        """Exactly these (by the names BUILTIN_TOOLS takes) are on."""
        self.names = [name for name in BUILTINS if name in names]
        self.enabled = [BUILTINS[name] for name in self.names]

    def tools(self) -> list[ToolSpec]:
        return list(self.enabled)

    async def call(self, tool: str, arguments: dict) -> ToolOutput:
        if tool == CALCULATOR.name and CALCULATOR in self.enabled:
            return _calculator(arguments)
        if tool == CURRENT_TIME.name and CURRENT_TIME in self.enabled:
            return _current_time(arguments)
        return failed(f"There is no built-in tool called {tool!r}.")


def _calculator(arguments: dict) -> ToolOutput:
    expression = arguments.get("expression")
    if not isinstance(expression, str):
        return failed('Give the expression as a string: {"expression": "2 + 2"}.')
    try:
        result = calculate(expression)
    except NotCalculable as refusal:
        return failed(str(refusal))
    except (ArithmeticError, ValueError, TypeError) as error:
        return failed(f"It cannot be worked out: {error}.")
    return ToolOutput(f"{result:.15g}" if isinstance(result, float) else str(result))


def _current_time(arguments: dict) -> ToolOutput:
    name = arguments.get("timezone") or "UTC"
    try:
        zone = UTC if name == "UTC" else ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        return failed(f"{name!r} is not a timezone this machine knows (try an IANA name like Europe/Paris).")
    now = datetime.now(zone)
    return ToolOutput(f"{now.isoformat(timespec='seconds')} ({now.strftime('%A')}, {name})")
