"""Read a typed expression into a small node tree, against a whitelist; never eval/exec.

Grammar (a subset of Python's own expression syntax)::

    expr := number | e | pi | name | expr (+ - * / **) expr | -expr | +expr | (expr)
          | f(expr)          where f is a row of ``functions.FUNCTIONS``

The text goes through :func:`ast.parse` (Python's parser; it runs no code) and the tree is
walked with an explicit stack, so a long chain such as ``x+x+...+x`` never reaches Python's
recursion limit in our code.  Anything outside the grammar raises
:class:`~autograd_lab.errors.ExpressionError` naming the offending piece, with a hint for
the usual slips (``x^2`` -> use ``**``; ``2x`` -> write ``2*x``; ``sin(x`` -> a missing
closing parenthesis).
"""

from __future__ import annotations

import ast
import difflib
import math
import re

from autograd_lab.errors import ExpressionError
from autograd_lab.functions import CONSTANTS, FUNCTIONS
from autograd_lab.operators import OPERATORS

__all__ = ["EXAMPLE", "Expr", "MAX_LENGTH", "MAX_NAMES", "MAX_NAME_LENGTH", "MAX_NODES",
           "names_in", "parse_expression", "size"]

#: Shown when the learner typed nothing, and in hints.
EXAMPLE = "sin(x**2)"

# The size cap for typed input, shared by ``derive`` and every widget's text box.  Under
# it, derive + check() take well under half a second (``make bench`` measures the largest
# inputs); over it, one sentence at once, echoing none of the input.
#: Characters in one expression (a sum of 2,000 short variables is about 12,000).
MAX_LENGTH = 20_000
#: Pieces (numbers, names, operations) in one derivation, intermediates included.
MAX_NODES = 8_000
#: Variables and intermediates given to one derivation.
MAX_NAMES = 2_000
#: Characters in one variable name.
MAX_NAME_LENGTH = 40

_BINARY = {row.syntax: op for op, row in OPERATORS.items() if row.syntax is not None
           and issubclass(row.syntax, ast.operator)}

_BINARY_HINTS = {
    ast.BitXor: "^ is not a power in Python; use ** for powers, e.g. x**2",
    ast.FloorDiv: "// (floor division) is not supported; use / for division",
    ast.Mod: "% (remainder) is not supported",
    ast.MatMult: "@ (matrix product) is not supported; derive works on scalars",
    ast.BitAnd: "& is not supported",
    ast.BitOr: "| is not supported",
    ast.LShift: "<< is not supported",
    ast.RShift: ">> is not supported",
}

_FORBIDDEN = {
    ast.Attribute: "attribute access",
    ast.Subscript: "indexing",
    ast.Compare: "a comparison",
    ast.BoolOp: "and/or",
    ast.IfExp: "if/else",
    ast.Lambda: "a lambda",
    ast.List: "a list",
    ast.Tuple: "a tuple (a comma)",
    ast.Set: "a set",
    ast.Dict: "a dict",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator",
    ast.NamedExpr: "an assignment (:=)",
    ast.JoinedStr: "an f-string",
    ast.Starred: "a starred argument",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Slice: "a slice",
}

_SYNONYMS = {"ln": "log", "sqr": "sqrt", "arctan": "tan", "exponential": "exp"}

_NUMBER_THEN_NAME = re.compile(r"(?<![\w.])(\d+(?:\.\d*)?|\.\d+)([A-Za-z_]\w*)")


class Expr:
    """One node of the parsed tree.

    ``kind`` is "number" (a literal), "constant" (``e``/``pi``), "name" (a variable),
    "binary" (``op`` in ``+ - * / **``), "neg" (unary minus) or "call" (``op`` is the
    function name); ``args`` holds the children, ``value`` the float of a number/constant,
    ``text`` the learner's spelling of this piece (for messages and constant labels).
    Unary plus and parentheses leave no node.
    """

    __slots__ = ("kind", "op", "args", "value", "_source", "_ast")

    def __init__(
        self,
        kind: str,
        op: str,
        args: tuple[Expr, ...] = (),
        value: float | None = None,
        source: str = "",
        node: ast.AST | None = None,
    ) -> None:
        self.kind = kind
        self.op = op
        self.args = args
        self.value = value
        self._source = source
        self._ast = node

    @property
    def text(self) -> str:
        """The source text of this piece: as typed, on one line, without outer parentheses."""
        if self._ast is None:
            return self.op
        return _segment(self._source, self._ast) or self.op

    def __repr__(self) -> str:  # not recursive: trees may be thousands of nodes deep
        return f"Expr({self.kind!r}, {self.op!r})"


def _segment(source: str, node: ast.AST) -> str:
    """The source text of ``node``, on one line (line breaks and their indentation → a space).

    Like :func:`ast.get_source_segment`, which re-splits the whole source on every call
    (quadratic on a long chain).  Offsets are UTF-8 byte offsets; ``source`` has only
    ``\\n`` line breaks (``parse_expression`` normalises them).
    """
    start, end = getattr(node, "lineno", None), getattr(node, "end_lineno", None)
    if start is None or end is None:
        return type(node).__name__
    lines = source.split("\n")[start - 1:end] if start != end or "\n" in source else [source]
    if not lines:
        return type(node).__name__
    encoded = [line.encode() for line in lines]
    encoded[-1] = encoded[-1][: node.end_col_offset]
    encoded[0] = encoded[0][node.col_offset:]
    text = b"\n".join(encoded).decode(errors="replace")
    # one line: a piece typed over several lines (inside parentheses) is echoed in error
    # messages, which are one sentence on one line
    return re.sub(r"\s*\n\s*", " ", text) if "\n" in text else text


def _piece(source: str, node: ast.AST) -> str:
    text = _segment(source, node)
    return text if len(text) <= 60 else text[:57] + "..."


def _fail(context: str, message: str) -> ExpressionError:
    # "In 'x^2': 'x^2': use **" reads better as "In 'x^2': use **"
    whole = context.split(" = ", 1)[-1].removeprefix("In ")
    message = message.removeprefix(f"{whole}: ").removeprefix(f"'{whole.strip(chr(34))}': ")
    return ExpressionError(f"{context}: {message}.")


def _syntax_hint(source: str, error: SyntaxError) -> str:
    """One sentence saying what is wrong with text Python's parser rejected."""
    msg = (error.msg or "").lower()
    match = _NUMBER_THEN_NAME.search(source)
    if "too many nested parentheses" in msg:
        return _too_deep()
    if "never closed" in msg or source.count("(") > source.count(")"):
        return "a closing parenthesis ')' is missing"
    if "unmatched" in msg or source.count(")") > source.count("("):
        return "there is a ')' without a matching '('; remove it or add the missing '('"
    if "literal" in msg and match:
        number, name = match.groups()
        return (f"'{number}{name}' needs a * between the number and the name; "
                f"write {number}*{name}")
    if re.search(r"(?<![=<>!])=(?!=)", source):
        return (f"write only the expression, without '=', and pass values as keywords, "
                f"e.g. derive('{EXAMPLE}', x=3.0)")
    spaced = re.search(r"(?<![\w.])(\d+(?:\.\d*)?)\s+([A-Za-z_]\w*)", source)
    if spaced and "invalid syntax" in msg and spaced[2] not in ("if", "else", "for", "and", "or"):
        shown = " ".join(spaced[0].split())
        return f"'{shown}' needs a * between the number and the name; write {spaced[1]}*{spaced[2]}"
    call = re.search(rf"\b({'|'.join(FUNCTIONS)})\s+([\w.]+)", source)
    if call:
        shown = " ".join(call[0].split())  # one line, even when a newline split the call
        return f"put the input in parentheses: {call[1]}({call[2]}), not '{shown}'"
    if ";" in source or "\n" in source.strip():
        return "type one expression only (it has several statements or lines)"
    if "**" not in source and "^" in source:
        return "use ** for powers, e.g. x**2"
    offset = error.offset or 0
    token = re.match(r"\w+|\S", source[offset - 1:]) if 0 < offset <= len(source) else None
    where = f" near '{token[0]}' (column {offset})" if token else ""
    tail = ("; check for a missing operator (such as *) or operand"
            if "invalid syntax" in msg else "")
    return f"Python cannot read it{where} ({error.msg}){tail}"


def _too_deep() -> str:
    return ("it is nested too deeply for Python's parser; split it into named "
            "intermediates, e.g. derive('y + 1', y='...', x=1.0)")


def _unknown_function(name: str) -> str:
    supported = ", ".join(FUNCTIONS)
    guess = _SYNONYMS.get(name) or next(
        iter(difflib.get_close_matches(name.lower(), list(FUNCTIONS), n=1, cutoff=0.6)), None
    )
    hint = f"; did you mean {guess}?" if guess else ""
    return f"{name}() is not a supported function (supported: {supported}){hint}"


def parse_expression(source: str, *, name: str | None = None) -> Expr:
    """Parse ``source`` into an :class:`Expr` tree, or raise ExpressionError with a hint.

    ``name`` (for an intermediate such as ``y='x**2'``) only changes the messages.
    """
    if not isinstance(source, str):
        raise ExpressionError(
            f"The expression must be text such as '{EXAMPLE}', got {type(source).__name__}."
        )
    text = source.strip().replace("\r\n", "\n").replace("\r", "\n")
    shown = text if len(text) <= 60 else text[:57] + "..."
    context = f"In {name} = {shown!r}" if name else f"In {shown!r}"
    where = f" for {name}" if name else ""
    if not text:
        raise ExpressionError(
            f"The expression{where} is empty: type an expression, for example {EXAMPLE}."
        )
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"The expression{where} has {len(text):,} characters, over the limit of "
            f"{MAX_LENGTH:,}; split it into named intermediates, e.g. "
            "derive('y + 1', y='...', x=1.0)."
        )
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as error:
        raise _fail(context, _syntax_hint(text, error)) from None
    except (RecursionError, MemoryError):
        raise _fail(context, _too_deep()) from None
    except ValueError as error:  # e.g. a null character (a SyntaxError from Python 3.12 on)
        raise _fail(context, f"Python cannot read it ({error})") from None
    return _convert(tree.body, text, context)


def _convert(root: ast.AST, source: str, context: str) -> Expr:
    """Post-order walk of the ast with an explicit stack, checking each node's type."""
    done: list[Expr] = []
    stack: list[tuple[ast.AST, bool]] = [(root, False)]
    count = 0
    while stack:
        node, expanded = stack.pop()
        if not expanded:
            count += 1
            if count > MAX_NODES:
                raise _fail(context, f"it has more than {MAX_NODES:,} pieces (numbers, names, "
                                     "operations); derive a smaller expression")
            children = _children(node, source, context)
            if children is None:  # a leaf: build it now
                done.append(_leaf(node, source, context))
                continue
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(children))
            continue
        if isinstance(node, ast.BinOp):
            right = done.pop()
            left = done.pop()
            done.append(Expr("binary", _BINARY[type(node.op)], (left, right), None, source, node))
        elif isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                done.append(Expr("neg", "-", (done.pop(),), None, source, node))
            # unary plus: keep the operand itself
        else:  # ast.Call, checked in _children
            assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            done.append(Expr("call", node.func.id, (done.pop(),), None, source, node))
    (result,) = done
    return result


def _children(node: ast.AST, source: str, context: str) -> list[ast.AST] | None:
    """Children to walk for an allowed inner node, None for a leaf; raise for the rest."""
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return [node.left, node.right]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and (
        node.func.id in FUNCTIONS and not node.keywords and len(node.args) == 1
        and not isinstance(node.args[0], ast.Starred)
    ):
        return [node.args[0]]
    if isinstance(node, (ast.Constant, ast.Name)):
        return None
    piece = _piece(source, node)
    if isinstance(node, ast.BinOp):
        hint = _BINARY_HINTS.get(type(node.op), "this operator is not supported")
        raise _fail(context, f"'{piece}': {hint}")
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, (ast.USub, ast.UAdd)):
            return [node.operand]
        raise _fail(context, f"'{piece}': only unary minus is supported")
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute):
            raise _fail(context, f"'{piece}': write the function on its own, e.g. "
                                 f"{func.attr}(...) rather than {_piece(source, func)}(...)")
        if not isinstance(func, ast.Name):
            raise _fail(context, f"'{piece}': only the functions {', '.join(FUNCTIONS)} "
                                 "can be called")
        if func.id not in FUNCTIONS:
            raise _fail(context, f"'{piece}': {_unknown_function(func.id)}")
        if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            raise _fail(context, f"'{piece}': {func.id} takes exactly one input, "
                                 f"e.g. {func.id}(x)")
        return [node.args[0]]
    what = _FORBIDDEN.get(type(node), f"a {type(node).__name__} construct")
    raise _fail(context, f"'{piece}' is {what}, which an expression here cannot contain")


def _leaf(node: ast.AST, source: str, context: str) -> Expr:
    if isinstance(node, ast.Name) and len(node.id) > MAX_NAME_LENGTH:
        raise _fail(context, f"the name '{node.id[:20]}...' has {len(node.id):,} characters, "
                             f"over the limit of {MAX_NAME_LENGTH}; use a shorter name")
    if isinstance(node, ast.Name) and node.id not in FUNCTIONS:
        if node.id in CONSTANTS:
            return Expr("constant", node.id, (), CONSTANTS[node.id], source, node)
        return Expr("name", node.id, (), None, source, node)
    piece = _piece(source, node)
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or value is None:
            raise _fail(context, f"'{piece}' is not a number")
        if isinstance(value, (int, float)):
            try:
                number = float(value)
            except OverflowError:
                number = math.inf
            if not math.isfinite(number):
                raise _fail(context, f"the number '{piece}' is too large for a float")
            return Expr("number", piece, (), number, source, node)
        if isinstance(value, complex):
            raise _fail(context, f"'{piece}' is a complex number; only real numbers work")
        raise _fail(context, f"'{piece}' is text in quotes, not a number or a variable")
    assert isinstance(node, ast.Name)  # a function name used as a variable
    raise _fail(context, f"'{node.id}' is a function; call it on an input, e.g. {node.id}(x)")


def size(expr: Expr) -> int:
    """Number of pieces (numbers, names, operations) in ``expr`` (iterative walk)."""
    count, stack = 0, [expr]
    while stack:
        node = stack.pop()
        count += 1
        stack.extend(node.args)
    return count


def names_in(expr: Expr) -> list[str]:
    """Variable names used in ``expr``, in order of first appearance (iterative walk)."""
    seen: dict[str, None] = {}
    stack = [expr]
    while stack:
        node = stack.pop()
        if node.kind == "name":
            seen.setdefault(node.op, None)
        stack.extend(reversed(node.args))
    return list(seen)
