"""Name lists written as data inside an answer.

A JSON array, ``{"domains": [...]}``, a Python list or tuple literal, bare, in a fenced code block,
or bracketed within prose.

Plain lists of quoted strings are read with a regular expression (the common case, and fast);
``ast.literal_eval`` takes the rest, so no answer is ever executed.
"""

from __future__ import annotations

import ast
import json
import re

__all__ = ["find_structured"]

_PY_ITEM = r"'([^'\\\n]*)'|\"([^\"\\\n]*)\""
_PY_ITEM_RE = re.compile(_PY_ITEM)
_PY_LIST_RE = re.compile(rf"[\[(]\s*(?:(?:{_PY_ITEM})\s*,\s*)*(?:(?:{_PY_ITEM})\s*,?\s*)?[\])]")
_FENCE_RE = re.compile(r"```(?:json|python)?\s*(.*?)```", re.DOTALL)


def _python_list(text: str) -> list[object] | None:
    """Read a Python list of plain quoted strings without ``ast`` (the common case, and fast)."""
    if _PY_LIST_RE.fullmatch(text):
        return [a or b for a, b in _PY_ITEM_RE.findall(text)]
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return list(value) if isinstance(value, (list, tuple)) else None


def _loads_list(text: str) -> tuple[list[object], bool] | None:
    """Read ``text`` as a JSON array or a Python list/tuple literal.

    Returns the items and whether ``text`` was a bare JSON array, or ``None``.
    """
    if not text or text[0] not in "[{(" or text[-1] not in "]})":
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        items = _python_list(text)
        return None if items is None else (items, False)
    if isinstance(value, dict):
        for key in ("domains", "suggestions", "names", "domain_names"):
            if isinstance(value.get(key), list):
                return list(value[key]), False
        return None
    if isinstance(value, list):
        return value, True
    return None


def find_structured(text: str) -> tuple[list[object], str, bool] | None:
    """Find a list (or ``{"domains": [...]}``) literal inside ``text``.

    Returns the items, the text around them, and whether the whole text was a bare JSON array.
    """
    whole = _loads_list(text)
    if whole is not None:
        return whole[0], "", whole[1]
    # Fenced code block first, then the widest bracketed span.
    fence = _FENCE_RE.search(text) if "```" in text else None
    if fence:
        inner = _loads_list(fence.group(1).strip())
        if inner is not None:
            return inner[0], (text[: fence.start()] + text[fence.end() :]).strip(), False
    for open_, close in (("{", "}"), ("[", "]")):
        start, end = text.find(open_), text.rfind(close)
        if 0 <= start < end:
            inner = _loads_list(text[start : end + 1])
            if inner is not None:
                return inner[0], (text[:start] + text[end + 1 :]).strip(), False
    return None
