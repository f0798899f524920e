"""Reading back plain data sent by a sandboxed child (the encoder is `_child._encode`).

The child sends nested tuples: ("n",) None, ("b", 0|1), ("i", hex), ("f", float.hex), ("c", real, imag) complex, ("s", str),
("y", bytes), and ("l"|"t"|"S"|"F", members) or ("d", k1, v1, k2, v2, ...) for list, tuple, set,
frozenset and dict. The report line is read with `ast.literal_eval`, which builds only literals;
`decode` checks every node's exact shape and builds fresh built-in values, so what the parent compares
is data it made itself: no object of the program, no method of the program, ever runs here.
"""

from __future__ import annotations

_ATOMS = {"n", "b", "i", "f", "s", "y"}
_CONTAINERS = {"l": list, "t": tuple, "S": set, "F": frozenset}


class Malformed(ValueError):
    pass


def decode(node, depth: int = 0):
    """The value `node` stands for; raises Malformed when it is not the encoder's output."""
    if depth > 120:
        raise Malformed("nested too deep")
    if type(node) is not tuple or not node or type(node[0]) is not str:
        raise Malformed("not a tagged tuple")
    tag = node[0]
    if tag == "c" and len(node) == 3 and type(node[1]) is str and type(node[2]) is str:
        return complex(float.fromhex(node[1]), float.fromhex(node[2]))
    if tag in _ATOMS:
        if tag == "n" and len(node) == 1:
            return None
        if len(node) != 2:
            raise Malformed(f"bad {tag!r} node")
        v = node[1]
        if tag == "b" and type(v) is int and v in (0, 1):
            return v == 1
        if tag == "i" and type(v) is str and len(v) < 1 << 22:
            return int(v, 16)
        if tag == "f" and type(v) is str:
            return float.fromhex(v)
        if tag == "s" and type(v) is str:
            return v
        if tag == "y" and type(v) is bytes:
            return v
        raise Malformed(f"bad {tag!r} node")
    if len(node) != 2 or type(node[1]) is not tuple:
        raise Malformed("bad container node")
    members = [decode(m, depth + 1) for m in node[1]]
    try:
        if tag in _CONTAINERS:
            return _CONTAINERS[tag](members)
        if tag == "d" and len(members) % 2 == 0:
            return dict(zip(members[::2], members[1::2]))
    except TypeError as exc:  # an unhashable member of a set or a dict key
        raise Malformed(str(exc)) from None
    raise Malformed(f"unknown tag {tag!r}")


def try_decode(node):
    """(True, value) or (False, why)."""
    try:
        return True, decode(node)
    except (Malformed, ValueError, OverflowError, RecursionError, MemoryError) as exc:
        return False, f"malformed output ({exc})"
