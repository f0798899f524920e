"""A tokenizer and recursive-descent parser for LaTeX and plain-math answers.

Why our own: model text must never reach `eval`, `sympify` or `parse_expr` (they run Python). This
parser only recognizes a fixed grammar and builds a plain tuple tree (the AST); nothing in the text
is ever executed or imported, and names are only ever data (`("sym", "x")`). The tree is hashable
and picklable, so it is a cache key and crosses process boundaries as data; sympy objects are built
from it later, in a worker process (see `symbolic.py`).

Bounded: input longer than `MAX_CHARS`, more than `MAX_TOKENS` tokens, a number literal longer than
`MAX_DIGITS` digits or nesting deeper than `MAX_DEPTH` raise `ParseError` (a subclass says which),
so parsing is linear in the input and never recurses without limit.

Node kinds (first element of each tuple):
  num(str) sym(name) const(pi|E|I|oo) neg(a) + - * / ^ (a, b) pm(a, b) mixed(whole, num, den)
  fn(name, a) log(base|None, a) root(n, a) fact(a) pct(a) deg(a) abs(a) floor(a) ceil(a) binom(a, b)
  tuple(items) list(items) set(items) interval(left_closed, a, b, right_closed) union(items)
  matrix(rows) rel(ops, operands) ratio(items) label(command, a) text(str) choice(letter)

Answer forms read generally rather than string by string:
- `a : b` (and `a:b:c`) is a ratio, binding looser than arithmetic and tighter than relations, so
  `A_1:A_2 = 5:9` is an equation between two ratios;
- `\\approx` ends the exact answer: `\\frac{\\sqrt2}{2} \\approx 0.707` is the part before it, and
  `x \\approx 4` (a name before it) the part after;
- `\\angle XYZ`, `\\overline{AB}`, `\\vec v`, `\\triangle ABC` (geometric names) are `label` nodes: what
  they name, not a value;
- `\\text{and}` / `\\text{or}` between answers, like `\\and`, separate them as a comma does.
"""

from __future__ import annotations

import re
from typing import Any

AST = tuple[Any, ...]

MAX_CHARS = 1000
MAX_TOKENS = 600
MAX_DIGITS = 1000
MAX_DEPTH = 40


class ParseError(ValueError):
    """The answer is not in the grammar; `str(exc)` says where or why."""


class TooComplex(ParseError):
    """The answer exceeds a size cap (length, tokens, digits, nesting)."""


FUNCTIONS = frozenset(
    "sin cos tan cot sec csc arcsin arccos arctan arccot sinh cosh tanh exp ln log".split()
)
GREEK = frozenset(
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi rho "
    "sigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Sigma Phi Psi Omega".split()
)
# Names recognized inside plain letter runs ("sqrt(2)", "pi", "sin x"), longest first.
_PLAIN_NAMES = sorted(FUNCTIONS | {"sqrt", "pi", "infty", "infinity", "inf", "oo", "theta", "alpha", "beta"},
                      key=len, reverse=True)
# The first of them (longest first) at a position of a letter run, in one match instead of a test per
# name; "inf" only as the rest of the run ("info" is letters).
_PLAIN_RE = re.compile("|".join(r"inf\Z" if name == "inf" else re.escape(name) for name in _PLAIN_NAMES))
_PLAIN_ALIASES = {"infinity": "infty", "inf": "infty", "oo": "infty"}
_TEXT_CMDS = frozenset("text mbox textrm mathrm textup textnormal textsf texttt hbox".split())
_RELOPS = {"=": "=", "<": "<", ">": ">", "le": "<=", "ge": ">=", "ne": "!=", "approx": "~"}
_LABEL_CMDS = frozenset(("angle", "measuredangle", "triangle", "overline", "overrightarrow", "overleftrightarrow",
                         "vec", "widehat", "overarc", "arc", "bar"))
_OPS = set("+-*/^_()[]{},=<>!|&';:")
_DIGITS = frozenset("0123456789")
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_NUM_RE = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")
_SCI_RE = re.compile(r"[eE][+-]?[0-9]+(?![a-zA-Z0-9])")
_WORD_RE = re.compile(r"[A-Za-z]+")
_CHOICE_RE = re.compile(r"^\s*\(?\s*([A-J])\s*\)\s*$|^\s*\(\s*([A-J])\s*\)?\s*$")
_CHOICE_LEAD_RE = re.compile(r"^\{?\s*\(([A-J])\)\s*\}?\s+\S")  # "(C) 12" / "{(C)} 12": an option with its text
_WORDY_RE = re.compile(r"^[A-Za-z][A-Za-z \-',.;!?]*[A-Za-z.!?]$")

_KNOWN_CMDS = FUNCTIONS | GREEK | frozenset(
    "frac sqrt binom pi infty pm cup in le ge ne percent degree lfloor rfloor lceil rceil emptyset varnothing "
    "begin end approx ldots dots cdots".split()) | _LABEL_CMDS
_ELLIPSES = frozenset(("ldots", "dots", "cdots"))


def _split_command(name: str) -> tuple[str, str] | None:
    """A known command run together with single-letter symbols (`\\cotx`, `\\pir`), else None."""
    for known in sorted(FUNCTIONS | {"pi", "sqrt"}, key=len, reverse=True):
        if name.startswith(known) and len(name) - len(known) <= 3:
            return known, name[len(known):]
    return None


Token = tuple[str, str, bool]  # (kind, value, plain): kinds NUM LET CMD OP TEXT BEGIN END EOF


def _brace_group(s: str, i: int) -> tuple[str, int]:
    """Content of the brace group starting at s[i] == '{' (nested braces balanced), and the index after it."""
    if i >= len(s) or s[i] != "{":
        raise ParseError(f"expected '{{' at {i}")
    depth = 0
    for j in range(i, len(s)):
        if s[j] == "{":
            depth += 1
        elif s[j] == "}":
            depth -= 1
            if depth == 0:
                return s[i + 1: j], j + 1
    raise ParseError("unbalanced braces")


def tokenize(s: str) -> list[Token]:
    if len(s) > MAX_CHARS:
        raise TooComplex(f"answer longer than {MAX_CHARS} characters")
    out: list[Token] = []
    i, n = 0, len(s)
    while i < n:
        if len(out) > MAX_TOKENS:
            raise TooComplex(f"more than {MAX_TOKENS} tokens")
        c = s[i]
        if c.isspace():
            i += 1
            continue
        if c in _DIGITS or (c == "." and i + 1 < n and s[i + 1] in _DIGITS):
            m = _NUM_RE.match(s, i)
            if m is None:  # pragma: no cover - guarded by the test above
                raise ParseError(f"bad number at {i}")
            text = m.group()
            i = m.end()
            sci = _SCI_RE.match(s, i)
            if sci:
                text += sci.group().lower()
                i = sci.end()
            if sum(ch.isdigit() for ch in text) > MAX_DIGITS:
                raise TooComplex(f"number longer than {MAX_DIGITS} digits")
            out.append(("NUM", text, True))
            continue
        if c in _LETTERS:
            m = _WORD_RE.match(s, i)
            if m is None:  # pragma: no cover - guarded by the test above
                raise ParseError(f"bad word at {i}")
            word = m.group()
            i = m.end()
            j = 0
            while j < len(word):
                named = _PLAIN_RE.match(word, j)
                if named:
                    out.append(("CMD", _PLAIN_ALIASES.get(named.group(), named.group()), True))
                    j = named.end()
                else:
                    out.append(("LET", word[j], True))
                    j += 1
            continue
        if c == "\\":
            if i + 1 < n and s[i + 1] in _LETTERS:
                m = _WORD_RE.match(s, i + 1)
                if m is None:  # pragma: no cover - guarded by the test above
                    raise ParseError(f"bad command at {i}")
                name = m.group()
                i = m.end()
                if name in _TEXT_CMDS:
                    while i < n and s[i] == " ":
                        i += 1
                    content, i = _brace_group(s, i)
                    stripped = content.strip()
                    if stripped in ("and", "or", ","):  # "(2, 9) \text{ and } (9, 2)"
                        out.append(("OP", ",", False))
                    elif len(stripped) == 1 and stripped in _LETTERS:
                        out.append(("LET", stripped, False))
                    else:
                        out.append(("TEXT", content, False))
                elif name in ("begin", "end"):
                    env, i = _brace_group(s, i)
                    out.append(("BEGIN" if name == "begin" else "END", env.strip(), False))
                elif name in ("and", "or"):
                    out.append(("OP", ",", False))
                elif name not in _KNOWN_CMDS and (split := _split_command(name)) is not None:
                    out.append(("CMD", split[0], False))  # "\\cotx" is "\\cot x", "\\pix" is "\\pi x"
                    out.extend(("LET", ch, False) for ch in split[1])
                else:
                    out.append(("CMD", name, False))
                continue
            two = s[i: i + 2]
            if two in ("\\{", "\\}"):
                out.append(("OP", two, False))
            elif two == "\\\\":
                out.append(("OP", "\\\\", False))
            elif two == "\\|":
                out.append(("OP", "|", False))
            else:
                raise ParseError(f"unknown escape {two!r}")
            i += 2
            continue
        if c == "*" and s.startswith("**", i):
            out.append(("OP", "^", True))
            i += 2
            continue
        if c in _OPS:
            out.append(("OP", c, True))
            i += 1
            continue
        raise ParseError(f"unexpected character {c!r}")
    out.append(("EOF", "", True))
    return out


def _last_factor(node: AST) -> AST:
    while node[0] == "*":
        node = node[2]
    return node


def _is_int(node: AST) -> bool:
    return node[0] == "num" and node[1].isdigit()


class _Parser:
    def __init__(self, tokens: list[Token]):
        self.toks = tokens
        self.last = len(tokens) - 1  # the EOF token: looking past the end sees it again
        self.pos = 0
        self.depth = 0

    # ---- helpers -------------------------------------------------------------------------
    def peek(self, k: int = 0) -> Token:
        i = self.pos + k
        return self.toks[i if i < self.last else self.last]

    def take(self) -> Token:
        tok = self.toks[self.pos]
        self.pos += 1
        return tok

    def at(self, kind: str, value: str | None = None) -> bool:
        i = self.pos  # peek(), inlined: the parser asks this most
        tok = self.toks[i if i < self.last else self.last]
        return tok[0] == kind and (value is None or tok[1] == value)

    def expect(self, kind: str, value: str | None = None) -> Token:
        if not self.at(kind, value):
            raise ParseError(f"expected {value or kind}, got {self.peek()[1] or self.peek()[0]!r}")
        return self.take()

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise TooComplex(f"nested deeper than {MAX_DEPTH}")

    def leave(self) -> None:
        self.depth -= 1

    # ---- grammar -------------------------------------------------------------------------
    def parse(self) -> AST:
        node = self.seq(("EOF",))
        self.expect("EOF")
        return node

    def seq(self, stops: tuple[str, ...]) -> AST:
        """Comma-separated items; one item stands for itself, more make a bare `list`."""
        self.enter()
        items = [self.item()]
        while self.at("OP", ",") or self.at("OP", ";"):
            self.take()
            if self.peek()[0] in stops or (self.peek()[0] == "OP" and self.peek()[1] in stops):
                break  # trailing comma
            items.append(self.item())
        self.leave()
        return items[0] if len(items) == 1 else ("list", tuple(items))

    def item(self) -> AST:
        operands = [self.ratio()]
        ops: list[str] = []
        while True:
            tok = self.peek()
            op = None
            if tok[0] == "OP" and tok[1] in "=<>":
                op = tok[1]
                self.take()
                if op in "<>" and self.at("OP", "="):
                    self.take()
                    op += "="
            elif tok[0] == "CMD" and tok[1] in _RELOPS:
                op = _RELOPS[tok[1]]
                self.take()
            elif tok[0] == "CMD" and tok[1] == "in":
                self.take()
                operands = [self.ratio()]  # "x \in S" means S
                continue
            if op is None:
                break
            ops.append(op)
            operands.append(self.ratio())
        if "~" in ops:
            ops, operands = _drop_approximation(ops, operands)
        if not ops:
            return operands[0]
        return ("rel", tuple(ops), tuple(operands))

    def ratio(self) -> AST:
        parts = [self.union()]
        while self.at("OP", ":"):
            self.take()
            parts.append(self.union())
        return parts[0] if len(parts) == 1 else ("ratio", tuple(parts))

    def union(self) -> AST:
        parts = [self.arith()]
        while self.at("CMD", "cup"):
            self.take()
            parts.append(self.arith())
        return parts[0] if len(parts) == 1 else ("union", tuple(parts))

    def arith(self) -> AST:
        self.enter()
        node = self.term()
        while True:
            if self.at("OP", "+"):
                self.take()
                node = ("+", node, self.term())
            elif self.at("OP", "-"):
                self.take()
                node = ("-", node, self.term())
            elif self.at("CMD", "pm"):
                self.take()
                node = ("pm", node, self.term())
            else:
                break
        self.leave()
        return node

    def _starts_factor(self) -> bool:
        kind, value, _ = self.peek()
        if kind in ("LET", "BEGIN"):
            return True
        if kind == "CMD":
            return value in FUNCTIONS or value in GREEK or value in _LABEL_CMDS or value in (
                "frac", "sqrt", "pi", "infty", "binom", "lfloor", "lceil", "emptyset", "varnothing")
        if kind == "OP":
            return value in ("(", "{")
        return False

    def term(self) -> AST:
        node = self.unary()
        while True:
            if self.at("OP", "*"):
                self.take()
                node = ("*", node, self.unary())
            elif self.at("OP", "/"):
                self.take()
                node = ("/", node, self.unary())
            elif self._starts_factor():
                node = ("*", node, self.power())
            elif self.at("NUM") and _last_factor(node)[0] in ("^", "fact"):
                node = ("*", node, self.power())  # "2^6 3^5", "2! 8!": side by side is a product
            elif self.at("NUM"):
                raise ParseError("two numbers in a row")
            else:
                break
        return node

    def unary(self) -> AST:
        self.enter()
        try:
            if self.at("OP", "-"):
                self.take()
                return ("neg", self.unary())
            if self.at("OP", "+"):
                self.take()
                return self.unary()
            if self.at("CMD", "pm"):
                self.take()
                return ("pm", ("num", "0"), self.unary())
            return self.power()
        finally:
            self.leave()

    def power(self) -> AST:
        base = self.postfix()
        if self.at("OP", "^"):
            self.take()
            base = ("^", base, self.exponent())
            base = self._postfix_ops(base)
        return base

    def exponent(self) -> AST:
        """An exponent: a brace group, a signed atom, and right-associative towers (9^9^9 = 9^(9^9))."""
        self.enter()
        try:
            if self.at("OP", "-"):
                self.take()
                atom: AST = ("neg", self.exponent())
                return atom
            if self.at("OP", "+"):
                self.take()
            if self.at("OP", "{"):
                self.take()
                atom = self.seq(("}",))
                self.expect("OP", "}")
            elif self.at("NUM"):
                atom = ("num", self.take()[1])
            else:
                atom = self.primary()
            if self.at("OP", "^"):
                self.take()
                atom = ("^", atom, self.exponent())
            return atom
        finally:
            self.leave()

    def postfix(self) -> AST:
        return self._postfix_ops(self.primary())

    def _postfix_ops(self, node: AST) -> AST:
        while True:
            if self.at("OP", "!"):
                self.take()
                node = ("fact", node)
            elif self.at("CMD", "percent"):
                self.take()
                node = ("pct", node)
            elif self.at("CMD", "degree"):
                self.take()
                node = ("deg", node)
            elif self.at("OP", "'"):
                self.take()
            elif self.at("TEXT"):  # a unit after a value ("5 \text{cm}"): dropped with its ^2/^3
                self.take()
                if self.at("OP", "^") and self.peek(1)[0] in ("NUM", "OP"):
                    self.take()
                    self.exponent()
            else:
                return node

    def small_arg(self) -> AST:
        """The argument of \\frac, \\sqrt, \\binom: a brace group, else one token (`\\frac12` is 1/2)."""
        if self.at("OP", "{"):
            self.take()
            node = self.seq(("}",))
            self.expect("OP", "}")
            return node
        if self.at("NUM"):
            kind, text, plain = self.take()
            if len(text) > 1 and not plain:
                pass
            if len(text) > 1:
                self.pos -= 1
                self.toks[self.pos] = ("NUM", text[1:], plain)
                return ("num", text[0])
            return ("num", text)
        return self.primary()

    def subscript_name(self) -> str:
        self.expect("OP", "_")
        if self.at("OP", "{"):
            start = self.pos
            self.take()
            depth = 1
            while depth:
                tok = self.take()
                if tok[0] == "EOF":
                    raise ParseError("unbalanced subscript")
                if tok == ("OP", "{", True) or (tok[0] == "OP" and tok[1] == "{"):
                    depth += 1
                elif tok[0] == "OP" and tok[1] == "}":
                    depth -= 1
            return "".join(t[1] for t in self.toks[start + 1: self.pos - 1])
        tok = self.take()
        if tok[0] not in ("NUM", "LET", "CMD"):
            raise ParseError("bad subscript")
        return tok[1]

    def bracket(self, opener: str) -> AST:
        items = [self.item()]
        while self.at("OP", ","):
            self.take()
            items.append(self.item())
        closer = self.take()
        if closer[0] != "OP" or closer[1] not in (")", "]"):
            raise ParseError(f"unclosed {opener!r}")
        left_closed = opener == "["
        right_closed = closer[1] == "]"
        if len(items) == 1:
            if left_closed != right_closed:
                raise ParseError("half-open bracket around one value")
            return items[0]
        if len(items) == 2 and (left_closed != right_closed or left_closed
                                or any(x in (("const", "oo"), ("neg", ("const", "oo"))) for x in items)):
            return ("interval", left_closed, items[0], items[1], right_closed)
        if left_closed != right_closed:
            raise ParseError("mixed brackets around a tuple")
        return ("tuple", tuple(items))

    def matrix(self, env: str) -> AST:
        rows: list[tuple[AST, ...]] = []
        row: list[AST] = []
        if env == "array" and self.at("OP", "{"):  # column spec
            while not self.at("OP", "}"):
                if self.take()[0] == "EOF":
                    raise ParseError("bad array")
            self.take()
        while True:
            if self.at("END"):
                self.take()
                break
            row.append(self.arith())
            if self.at("OP", "&"):
                self.take()
            elif self.at("OP", "\\\\"):
                self.take()
                rows.append(tuple(row))
                row = []
                if self.at("END"):
                    self.take()
                    break
            elif self.at("END"):
                self.take()
                rows.append(tuple(row))
                row = []
                break
            else:
                raise ParseError("bad matrix cell")
        if row:
            rows.append(tuple(row))
        if not rows or len({len(r) for r in rows}) != 1:
            raise ParseError("ragged matrix")
        return ("matrix", tuple(rows))

    def primary(self) -> AST:
        self.enter()
        try:
            return self._primary()
        finally:
            self.leave()

    def _primary(self) -> AST:
        kind, value, plain = self.peek()
        if kind == "NUM":
            self.take()
            node: AST = ("num", value)
            if "." in value and "e" not in value and self.at("CMD") and self.peek()[1] in ("overline", "bar"):
                return self._repeating(value)
            if "." in value and "e" not in value and self.at("CMD") and self.peek()[1] in _ELLIPSES:
                self.take()
                return ("trunc", ("num", value))
            if self.at("OP", "_"):  # a base subscript (204_5): the digits are the answer
                self.subscript_name()
                return node
            if value.isdigit() and self.at("CMD", "frac"):
                save = self.pos
                self.take()
                num, den = self.small_arg(), self.small_arg()
                if _is_int(num) and _is_int(den):
                    return ("mixed", node, num, den)
                self.pos = save
            if value.isdigit() and self.at("NUM") and self.peek(1) == ("OP", "/", True) and self.peek(2)[0] == "NUM":
                num = ("num", self.take()[1])
                self.take()
                den = ("num", self.take()[1])
                if _is_int(num) and _is_int(den):
                    return ("mixed", node, num, den)
                raise ParseError("bad mixed number")
            return node
        if kind == "LET":
            self.take()
            if value == "i" and not self.at("OP", "_"):
                return ("const", "I")
            if value == "e" and not self.at("OP", "_"):
                return ("const", "E")
            if self.at("OP", "_"):
                return ("sym", f"{value}_{self.subscript_name()}")
            return ("sym", value)
        if kind == "OP":
            if value in ("(", "["):
                self.take()
                return self.bracket(value)
            if value == "{":
                self.take()
                node = self.seq(("}",))
                self.expect("OP", "}")
                return node  # "{1, 2}": LaTeX grouping braces around a bare list (a set is \{1, 2\})
            if value == "\\{":
                self.take()
                if self.at("OP", "\\}"):
                    self.take()
                    return ("set", ())
                items = [self.item()]
                while self.at("OP", ","):
                    self.take()
                    items.append(self.item())
                self.expect("OP", "\\}")
                return ("set", tuple(items))
            if value == "|":
                self.take()
                node = self.arith()
                self.expect("OP", "|")
                return ("abs", node)
            raise ParseError(f"unexpected {value!r}")
        if kind == "BEGIN":
            self.take()
            if value not in ("pmatrix", "array", "vmatrix", "smallmatrix"):
                raise ParseError(f"unknown environment {value!r}")
            node = self.matrix(value)
            return node
        if kind == "TEXT":
            raise ParseError("text inside an expression")
        if kind == "CMD":
            self.take()
            return self._command(value, plain)
        raise ParseError("unexpected end of answer")

    def _repeating(self, value: str) -> AST:
        """`0.1\\overline{6}` (after the number `0.1`): the exact rational 1/6, as a fraction of integers."""
        self.take()
        if not (self.at("OP", "{") and self.peek(1)[0] == "NUM" and self.peek(1)[1].isdigit()
                and self.peek(2)[:2] == ("OP", "}")):
            raise ParseError("a repeating decimal needs digits under the bar")
        self.take()
        rep = self.take()[1]
        self.take()
        whole, _, fixed = value.partition(".")
        if len(rep) + len(fixed) > 200:
            raise TooComplex("repeating decimal too long")
        den = 10 ** len(fixed) * (10 ** len(rep) - 1)
        num = int((whole or "0") + fixed + rep) - int((whole or "0") + fixed)
        return ("/", ("num", str(num)), ("num", str(den)))

    def _command(self, name: str, plain: bool) -> AST:
        if name == "frac":
            return ("/", self.small_arg(), self.small_arg())
        if name == "binom":
            return ("binom", self.small_arg(), self.small_arg())
        if name == "sqrt":
            index: AST = ("num", "2")
            if self.at("OP", "["):
                self.take()
                index = self.arith()
                self.expect("OP", "]")
            if plain and self.at("NUM"):
                return ("root", index, ("num", self.take()[1]))
            return ("root", index, self.small_arg())
        if name == "pi":
            return ("const", "pi")
        if name == "infty":
            return ("const", "oo")
        if name in ("emptyset", "varnothing"):
            return ("set", ())
        if name in GREEK:
            return ("sym", name)
        if name in _LABEL_CMDS:
            return ("label", name, self.power())
        if name in ("lfloor", "lceil"):
            inner = self.arith()
            self.expect("CMD", "rfloor" if name == "lfloor" else "rceil")
            return ("floor" if name == "lfloor" else "ceil", inner)
        if name in FUNCTIONS:
            base: AST | None = None
            power: AST | None = None
            if name == "log" and self.at("OP", "_"):
                self.take()
                base = self.small_arg()
            if self.at("OP", "^"):
                self.take()
                power = self.exponent()
            if self.at("OP", "(") or self.at("OP", "{"):
                arg = self.primary()
            else:
                arg = self.power()
                while self.at("LET") or (self.at("CMD") and self.peek()[1] in GREEK | {"pi"}):
                    arg = ("*", arg, self.power())
            node: AST = ("log", base, arg) if name == "log" else ("fn", name, arg)
            if name == "ln":
                node = ("log", None, arg)
            if power is not None:
                if power == ("neg", ("num", "1")):
                    raise ParseError("inverse-function notation is not supported")
                node = ("^", node, power)
            return node
        raise ParseError(f"unknown command \\{name}")


def is_label(node: AST) -> bool:
    """A name rather than a value: `x`, `PQ`, `g(t)`, `f(2)`, `|PQ|`, `\\angle XYZ`, `(a, b)`, `A_1:A_2`."""
    kind = node[0]
    if kind in ("sym", "label"):
        return True
    if kind == "*":
        left, right = node[1], node[2]
        if left[0] == "^" and left[1][0] == "sym" and left[2] == ("neg", ("num", "1")):
            return is_label(right) or right[0] == "num"  # f^{-1}(x), f^{-1}(3): the inverse function
        return is_label(left) and (is_label(right) or right[0] == "num" or
                                   (left[0] == "sym" and right[0] in ("+", "-", "neg")))
    if kind == "/":  # \frac{NO}{BO}: a ratio of two named lengths
        return _named_product(node[1]) and _named_product(node[2])
    if kind == "abs":
        return is_label(node[1])
    if kind in ("tuple", "ratio"):
        return all(is_label(x) for x in node[1])
    return False


def _named_product(node: AST) -> bool:
    """Two or more letters side by side (`NO`, `AB`): a segment's name, not a product of variables."""
    return node[0] == "*" and all(x[0] == "sym" for x in (node[1], node[2])) or (
        node[0] == "*" and _named_product(node[1]) and node[2][0] == "sym")


def _drop_approximation(ops: list[str], operands: list[AST]) -> tuple[list[str], list[AST]]:
    """The exact part of a chain with `\\approx`: before the first one, or after it when only a name
    precedes it (`x \\approx 4` is 4)."""
    k = ops.index("~")
    if k == 0 and is_label(operands[0]):
        rest_ops, rest = ops[1:], operands[1:]
        if "~" in rest_ops:
            j = rest_ops.index("~")
            rest_ops, rest = rest_ops[:j], rest[: j + 1]
        return rest_ops, rest
    return ops[:k], operands[: k + 1]


def normalize_text(s: str) -> str:
    """Plain-text answers compare case-, space- and punctuation-insensitively."""
    s = re.sub(r"\\text\{([^{}]*)\}", r"\1", s)
    s = re.sub(r"[^\w\s]", " ", s.lower())
    return " ".join(w for w in s.split() if w not in ("the", "a", "an"))


def _one_group(s: str) -> bool:
    """Whether s[0] == '{' is closed by s[-1] (not "{a}+{b}")."""
    depth = 0
    for i, c in enumerate(s):
        depth += c == "{"
        depth -= c == "}"
        if depth == 0 and i < len(s) - 1:
            return False
    return True


def parse_answer(s: str) -> AST:
    """The AST of a cleaned answer (see `normalize.clean_answer`); raises ParseError.

    Before the grammar: a lone `\\text{...}` is a plain-text answer (or a choice letter like
    `\\text{(B)}`), and a string of words with a word of 3+ letters that is no math name is text."""
    s = s.strip()
    if not s:
        raise ParseError("empty answer")
    if len(s) > MAX_CHARS:
        raise TooComplex(f"answer longer than {MAX_CHARS} characters")
    while len(s) > 2 and s[0] == "{" and s[-1] == "}" and _one_group(s) and _WORDY_RE.match(s[1:-1].strip()):
        s = s[1:-1].strip()  # "{east}" (left by \textbf{east}) is "east"
    m = _CHOICE_RE.match(s)
    if m:
        return ("choice", m.group(1) or m.group(2))
    m = _CHOICE_LEAD_RE.match(s)
    if m:
        return ("choice", m.group(1))
    toks = tokenize(s)
    if len(toks) == 2 and toks[0][0] == "TEXT":
        inner = toks[0][1].strip()
        m = _CHOICE_RE.match(inner)
        if m:
            return ("choice", m.group(1) or m.group(2))
        return ("text", normalize_text(inner))
    if _WORDY_RE.match(s) and any(
        len(w) >= 3 and w.lower() not in _PLAIN_NAMES and w not in GREEK for w in re.findall(r"[A-Za-z]+", s)
    ):
        return ("text", normalize_text(s))
    return _Parser(toks).parse()
