"""Filter expressions over the object table, evaluated on whole columns at once.

Grammar: a Python-like boolean expression over attribute names, e.g.
``function == "residential" and height > 20``, ``yearOfConstruction < 1950 or
not (roofType in ["flat", "1000"])``. Names are attribute keys; ``id``, ``type``
and ``height`` are always available (``height`` is measuredHeight or the geometry's
vertical extent, and missing for ground-like objects such as terrain, roads and water:
see :meth:`CityModel.height`). A missing attribute compares false. Only literals, names,
comparisons, ``and``/``or``/``not``, ``in`` and arithmetic are allowed: nothing is
executed.
"""

from __future__ import annotations

import ast
import io
import keyword
import operator
import tokenize
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..core.errors import CityTwinError
from .city import CityModel


class QueryError(CityTwinError):
    """The expression is not valid; the message says where."""


_CMP: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
    ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
}
_BIN: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.Mod: operator.mod,
}


def _scalar(value: Any) -> Any:
    if isinstance(value, dict) and "value" in value:  # {"value": 12.5, "uom": "m"}
        return value["value"]
    return value


def attribute_column(model: CityModel, name: str) -> NDArray[Any]:
    """Values of one attribute for every object: float64 (NaN if missing) when all
    present values are numbers, else an object array (None if missing)."""
    n = model.n_objects
    if name == "id":
        return np.asarray(model.objects.ids, dtype=object)
    if name == "type":
        return np.asarray(model.objects.types, dtype=object)
    if name == "height":
        return np.array([model.height(i) for i in range(n)], dtype=np.float64)
    vals = [_scalar(a.get(name)) for a in model.objects.attributes]
    numeric = True
    out = np.full(n, np.nan)
    for i, v in enumerate(vals):
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            try:
                out[i] = float(v)  # numeric strings such as "12.5" count as numbers
            except (TypeError, ValueError):
                numeric = False
                break
        else:
            out[i] = v
    if numeric:
        return out
    col = np.empty(n, dtype=object)
    col[:] = vals
    return col


class _Eval:
    def __init__(self, model: CityModel) -> None:
        self.model = model
        self.cols: dict[str, NDArray[Any]] = {}

    def col(self, name: str) -> NDArray[Any]:
        if name not in self.cols:
            self.cols[name] = attribute_column(self.model, name)
        return self.cols[name]

    def __call__(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return self(node.body)
        if isinstance(node, ast.BoolOp):
            vals = [np.asarray(self(v), dtype=bool) for v in node.values]
            fn = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
            out = vals[0]
            for v in vals[1:]:
                out = fn(out, v)
            return out
        if isinstance(node, ast.UnaryOp):
            v = self(node.operand)
            if isinstance(node.op, ast.Not):
                return np.logical_not(np.asarray(v, dtype=bool))
            if isinstance(node.op, ast.USub):
                return -v
            raise QueryError("unsupported operator")
        if isinstance(node, ast.Compare):
            left = self(node.left)
            result = None
            for op, right_node in zip(node.ops, node.comparators):
                right = self(right_node)
                part = self._compare(op, left, right)
                result = part if result is None else np.logical_and(result, part)
                left = right
            return result
        if isinstance(node, ast.BinOp) and type(node.op) in _BIN:
            return _BIN[type(node.op)](self(node.left), self(node.right))
        if isinstance(node, ast.Name):
            return self.col(node.id)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool)):
            return node.value
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return [self(e) for e in node.elts]
        raise QueryError(f"'{ast.unparse(node)}' is not allowed in a filter")

    def _compare(self, op: ast.cmpop, left: Any, right: Any) -> NDArray[np.bool_]:
        n = self.model.n_objects
        if isinstance(op, (ast.In, ast.NotIn)):
            if not isinstance(right, list):
                raise QueryError("'in' needs a list, e.g. function in [\"office\", \"school\"]")
            lcol = np.asarray(left, dtype=object) if np.ndim(left) else np.full(n, left, object)
            hit = np.zeros(n, dtype=bool)
            for item in right:
                hit |= np.asarray(self._compare(ast.Eq(), lcol, item), dtype=bool)
            return ~hit if isinstance(op, ast.NotIn) else hit
        fn = _CMP.get(type(op))
        if fn is None:
            raise QueryError("unsupported comparison")
        lnum, rnum = _numeric(left), _numeric(right)
        if lnum is not None and rnum is not None:
            with np.errstate(invalid="ignore"):
                res = fn(lnum, rnum)
            return np.broadcast_to(np.asarray(res, dtype=bool), (n,))
        la = np.asarray(left, dtype=object) if np.ndim(left) else np.full(n, left, object)
        ra = np.asarray(right, dtype=object) if np.ndim(right) else np.full(n, right, object)
        out = np.zeros(n, dtype=bool)
        for i in range(n):
            a, b = la[i], ra[i]
            if a is None or b is None or (isinstance(a, float) and np.isnan(a)):
                out[i] = isinstance(op, ast.NotEq) and not (a is None and b is None)
                continue
            try:
                out[i] = bool(fn(_coerce(a, b), _coerce(b, a)))
            except TypeError:
                out[i] = isinstance(op, ast.NotEq)
        return out


def _numeric(v: Any) -> Any:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, np.ndarray) and v.dtype.kind in "fiu":
        return v
    return None


def _coerce(a: Any, other: Any) -> Any:
    """Compare "12" with 12 as numbers, anything else with a string as strings."""
    if isinstance(other, (int, float)) and not isinstance(other, bool):
        try:
            return float(a)
        except (TypeError, ValueError):
            return a
    if isinstance(other, str) and not isinstance(a, str):
        return str(a)
    return a


_OPS_ALLOWED = frozenset(
    ["==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "(", ")", "[", "]", ","])
_WORDS_ALLOWED = frozenset(["and", "or", "not", "in", "True", "False"])
_NODES_ALLOWED = (ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub,
                  ast.UAdd, ast.Compare, ast.In, ast.NotIn, ast.BinOp, ast.Name, ast.Load,
                  ast.List, ast.Tuple, ast.Set, *_CMP, *_BIN)
_HINT = "use ==, !=, <, <=, >, >=, in, and, or, not, + - * / %"


def _fail(col: int, what: str) -> QueryError:
    """``col`` is 0-based in the filter as typed; messages count from 1."""
    return QueryError(f"invalid filter at column {col + 1}: {what}")


def _tokens(text: str) -> list[tokenize.TokenInfo]:
    """Python tokens of a one-line filter, with the first bad token reported by column."""
    toks: list[tokenize.TokenInfo] = []
    opened: list[tokenize.TokenInfo] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER,
                            tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT):
                if tok.type == tokenize.COMMENT:
                    raise _fail(tok.start[1], "'#' is not allowed")
                continue
            col = tok.start[1]
            if tok.type == tokenize.ERRORTOKEN:
                if tok.string.isspace():
                    continue
                if tok.string in "\"'":
                    raise _fail(col, f"the string starting here is not closed with {tok.string}")
                raise _fail(col, f"'{tok.string}' is not allowed ({_HINT})")
            if tok.type == tokenize.OP:
                if tok.string not in _OPS_ALLOWED:
                    raise _fail(col, f"'{tok.string}' is not allowed ({_HINT})")
                if tok.string in "([":
                    opened.append(tok)
                elif tok.string in ")]":
                    if not opened or "([".index(opened[-1].string) != ")]".index(tok.string):
                        raise _fail(col, f"'{tok.string}' does not close anything")
                    opened.pop()
            elif tok.type == tokenize.NAME and keyword.iskeyword(tok.string) \
                    and tok.string not in _WORDS_ALLOWED:
                raise _fail(col, f"'{tok.string}' is not allowed ({_HINT})")
            toks.append(tok)
    except tokenize.TokenError:
        pass  # an open bracket at the end: reported below
    if opened:
        raise _fail(opened[-1].start[1], f"'{opened[-1].string}' is never closed")
    return toks


def _node_col(node: ast.AST, text: str) -> tuple[int, str]:
    """Column and text of the part of ``node`` that is not allowed."""
    if isinstance(node, ast.BinOp):  # point at the operator, not at the left operand
        gap = text[getattr(node.left, "end_col_offset", 0):getattr(node.right, "col_offset", 0)]
        stripped = gap.strip().strip("()").strip()
        if stripped:
            return getattr(node.left, "end_col_offset", 0) + gap.index(stripped), stripped
    if isinstance(node, ast.Compare):
        for op, left in zip(node.ops, [node.left, *node.comparators]):
            if type(op) not in _CMP and not isinstance(op, (ast.In, ast.NotIn)):
                start = getattr(left, "end_col_offset", 0)
                rest = text[start:]
                word = rest.split()[0] if rest.split() else ""
                return start + (rest.index(word) if word else 0), word
    col = getattr(node, "col_offset", 0)
    end = getattr(node, "end_col_offset", None)
    return col, text[col:end] if end is not None else ast.unparse(node)


def compile_query(expr: str) -> ast.Expression:
    """Parse ``expr``; raise :class:`QueryError` naming the (1-based) column of the
    offending token if it is not a valid filter."""
    text = expr.replace("\r", " ").replace("\n", " ").replace("\t", " ")
    lead = len(text) - len(text.lstrip())
    toks = _tokens(text)
    if not toks:
        raise _fail(len(text), "the filter is empty")
    try:
        tree = ast.parse(text.lstrip(), mode="eval")
    except SyntaxError as exc:
        off = (exc.offset or 0) - 1 + lead  # 0-based in ``text``
        last = toks[-1]
        if exc.offset is None or off < 0 or off >= len(text.rstrip()) or \
                (exc.lineno or 1) > 1:
            raise _fail(last.start[1], f"'{last.string}' needs something after it") from exc
        tok = next((t for t in toks if t.start[1] <= off < t.end[1]), None)
        shown = tok.string if tok is not None else text[off]
        raise _fail(off, f"unexpected '{shown}'") from exc
    # positions in the tree are relative to the stripped text
    for node in ast.walk(tree):
        bad = not isinstance(node, _NODES_ALLOWED)
        if isinstance(node, ast.Constant):
            bad = not isinstance(node.value, (int, float, str))  # bool is an int
        if bad:
            col, what = _node_col(node, text.lstrip())
            raise _fail(col + lead, f"'{what}' is not allowed in a filter")
    return tree


def evaluate(model: CityModel, expr: str) -> NDArray[np.bool_]:
    """Boolean mask over objects for the filter ``expr`` (empty → all objects)."""
    if not expr.strip():
        return np.ones(model.n_objects, dtype=bool)
    result = _Eval(model)(compile_query(expr))
    arr = np.asarray(result)
    if arr.dtype != bool or arr.shape != (model.n_objects,):
        raise QueryError("the filter must be a comparison, e.g. height > 20")
    return arr
