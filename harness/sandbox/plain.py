"""Reading back plain data sent by a sandboxed child (the encoder is `_child._encode`).

The child sends nested lists (JSON arrays in its report): ["n"] None, ["b", 0|1], ["i", hex],
["f", float.hex], ["c", real, imag] complex, ["s", str], ["y", hex] bytes, and ["l"|"t"|"S"|"F"|"Q",
members] or ["d"|"C"|"O", [k1, v1, k2, v2, ...]] for list, tuple, set, frozenset, deque, dict, Counter and
OrderedDict. `decode` checks every node's exact shape and builds fresh values of those exact types, so
what the parent compares is data it made itself: no object of the program, no method of the program,
ever runs here. It is bounded: ints come as hex (linear, no digit limit), and a set or dict whose
members hash alike (a quadratic build, e.g. 80,000 ints equal modulo 2**61 - 1) is refused.
This module is also loaded by the sandbox's zygote (as `plain`): standard library only.
"""

from __future__ import annotations

import collections

_ATOMS = {"n", "b", "i", "f", "s", "y"}
_SEQUENCES = {"l": list, "t": tuple, "S": set, "F": frozenset, "Q": collections.deque}
_MAPS = {"d": dict, "C": collections.Counter, "O": collections.OrderedDict}
MAX_DEPTH = 120
MAX_SAME_HASH = 64  # members of one set or dict sharing a hash with an earlier one, at most


class Malformed(ValueError):
    pass


def _node(node) -> bool:
    return type(node) in (list, tuple) and len(node) > 0 and type(node[0]) is str


def check_spread(members) -> None:
    """Refuse members that hash alike: building a set of them would take quadratic time."""
    if len(members) <= MAX_SAME_HASH:
        return
    try:
        distinct = len({hash(m) for m in members})  # hashes are ints below 2**61: they spread
    except TypeError:
        return  # an unhashable member: the build itself fails, at once
    if len(members) - distinct > MAX_SAME_HASH:
        raise Malformed(f"{len(members) - distinct} members hash alike")


def decode(node, depth: int = 0, objects=None):
    """The value `node` stands for; raises Malformed when it is not the encoder's output. `objects`
    (name, attributes) -> object rebuilds attribute bags (arguments made by a test's own classes);
    without it they are refused."""
    if depth > MAX_DEPTH:
        raise Malformed("nested too deep")
    if not _node(node):
        raise Malformed("not a tagged node")
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
        if tag == "f" and type(v) is str and len(v) < 64:
            return float.fromhex(v)
        if tag == "s" and type(v) is str:
            return v
        if tag == "y" and type(v) is str:
            return bytes.fromhex(v)
        raise Malformed(f"bad {tag!r} node")
    if tag == "o" and objects is not None and len(node) == 3 and type(node[1]) is str \
            and type(node[2]) in (list, tuple) and len(node[2]) % 2 == 0:
        flat = [decode(m, depth + 1, objects) for m in node[2]]
        if not all(type(k) is str for k in flat[::2]):
            raise Malformed("bad attribute name")
        return objects(node[1], dict(zip(flat[::2], flat[1::2])))
    if len(node) != 2 or type(node[1]) not in (list, tuple):
        raise Malformed("bad container node")
    members = [decode(m, depth + 1, objects) for m in node[1]]
    try:
        if tag in _SEQUENCES:
            if tag in ("S", "F"):
                check_spread(members)
            return _SEQUENCES[tag](members)
        if tag in _MAPS and len(members) % 2 == 0:
            keys = members[::2]
            check_spread(keys)
            plain = dict(zip(keys, members[1::2]))
            return plain if tag == "d" else _MAPS[tag](plain)
    except TypeError as exc:  # an unhashable member of a set or a dict key
        raise Malformed(str(exc)) from None
    raise Malformed(f"unknown tag {tag!r}")


def try_decode(node):
    """(True, value) or (False, why)."""
    try:
        return True, decode(node)
    except (Malformed, ValueError, OverflowError, RecursionError, MemoryError) as exc:
        return False, f"malformed output ({str(exc)[:200]})"
