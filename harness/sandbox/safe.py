"""Text that came from a program, made safe to store and write: no lone surrogates, no NULs, bounded.

Every string a sandboxed program can influence (an exception message, a type's name, a probe's repr,
its stdout) passes through `safe_text` before it reaches a verdict, and values decoded from its output
are shown with `safe_repr`, which never calls `repr` on an int over Python's digit limit and stops at
its budget however large or deep the value is.
"""

from __future__ import annotations

import math


def safe_text(text, cap: int = 2000) -> str:
    """`text` as valid, NUL-free UTF-8-encodable text of at most about `cap` characters."""
    if type(text) is not str:
        text = "" if text is None else f"<{type(text).__name__}>"
    cut = len(text) > cap
    text = text[:cap].encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    return text + ("..." if cut else "")


def safe_repr(value, cap: int = 120) -> str:
    """A short repr of a plain value (built-in types): bounded in time and length, never raising."""
    out: list[str] = []
    budget = [cap + 1]

    def put(s: str) -> None:
        out.append(s)
        budget[0] -= len(s)

    def walk(v, depth: int) -> None:
        if budget[0] <= 0:
            return
        if depth > 20:
            put("...")
            return
        t = type(v)
        if t is int:
            put(repr(v) if v.bit_length() < 1000 else f"<int of {v.bit_length()} bits>")
        elif t is float:
            put(repr(v) if math.isfinite(v) else str(v))
        elif t in (str, bytes):
            put(repr(v[:cap]))
        elif t in (bool, complex) or v is None:
            put(repr(v))
        elif t in (list, tuple, set, frozenset) or isinstance(v, dict):
            if isinstance(v, dict):
                open_, close, items = "{", "}", list(v.items())[: cap // 2 + 1]
            else:
                open_, close, items = {list: "[]", tuple: "()", set: "{}", frozenset: "{}"}[t][0], \
                    {list: "[]", tuple: "()", set: "{}", frozenset: "{}"}[t][1], list(v)[: cap // 2 + 1]
            if t is frozenset:
                put("frozenset(")
            elif isinstance(v, dict) and t is not dict:
                put(f"{t.__name__}(")
            put(open_)
            for i, item in enumerate(items):
                if budget[0] <= 0:
                    break
                if i:
                    put(", ")
                if isinstance(v, dict):
                    walk(item[0], depth + 1)
                    put(": ")
                    walk(item[1], depth + 1)
                else:
                    walk(item, depth + 1)
            put(close)
            if t is frozenset or (isinstance(v, dict) and t is not dict):
                put(")")
        elif t.__module__.startswith("harness."):  # the harness's own stand-ins (trusted reprs)
            put(repr(v))
        else:
            put(f"<{t.__name__}>")

    try:
        walk(value, 0)
    except Exception:  # noqa: BLE001 - a repr that cannot be made is shown as such
        out.append("<unprintable>")
    text = "".join(out)
    if len(text) > cap:
        text = text[:cap] + "..."
    return safe_text(text, cap + 3)
