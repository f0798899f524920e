"""Turning a model's response into the program to run, and a prompt's examples into probe calls.

A response is either a chat answer with one or more fenced code blocks, or a raw continuation of the
task's code prompt (base models). Chat blocks are joined in order after the task's preamble (the
HumanEval prompt: its imports and helper functions stay available, and the answer's definitions
override the stub); usage examples at top level (prints, asserts, loops, `if __name__ == ...`) are
dropped so only definitions run. A continuation is cut at the first top-level line that starts
something other than a definition, and trailing lines cut off by a token limit are dropped until
the program parses. Nothing here executes code: only `ast` parses it.
"""

from __future__ import annotations

import ast
import re
import textwrap
import warnings
from dataclasses import dataclass
from typing import Literal

_FENCE = re.compile(r"^[ \t]*```[ \t]*([\w+.-]*)[^\n]*\n(.*?)(?:^[ \t]*```|\Z)", re.MULTILINE | re.DOTALL)
_PY_LANGS = {"", "python", "py", "python3", "py3", "pycon", "ipython"}
# A top-level line starting with one of these ends a continuation (what a base model writes after the
# function: tests, prints, a new prompt).
_STOP_LINE = re.compile(r"^(?:if\s|print\(|assert\s|#|for\s|while\s|>>>|```|\"\"\"|'''|[A-Za-z_]\w*\()")
_MAX_TRIM = 60  # trailing lines dropped at most while looking for a parseable program


@dataclass(frozen=True, slots=True)
class Extraction:
    program: str | None  # the code to run (without tests); None when nothing usable was found
    kind: Literal["fenced", "full", "continuation", "none"]
    reason: str | None = None  # why program is None


def fenced_blocks(text: str) -> list[str]:
    """Python (or untagged) fenced blocks in order; an unterminated last block runs to the end."""
    out = []
    for m in _FENCE.finditer(text):
        if m.group(1).lower() in _PY_LANGS:
            out.append(m.group(2))
    return out


def parse_quietly(code: str) -> ast.Module | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # model code's invalid escapes are not our warnings
            return ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _compiles(code: str) -> bool:
    """True when `code` compiles (catches `return` outside a function, which ast.parse accepts).
    Compiling runs nothing."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(code, "<block>", "exec", dont_inherit=True)
        return True
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False


def defines(tree: ast.Module, name: str) -> bool:
    return any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.name == name
               for n in tree.body)


def _is_main_guard(node: ast.stmt) -> bool:
    return (isinstance(node, ast.If) and isinstance(node.test, ast.Compare)
            and isinstance(node.test.left, ast.Name) and node.test.left.id == "__name__")


def _calls_defined(node: ast.AST, names: set[str]) -> bool:
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in names
               for n in ast.walk(node))


def definitions_only(code: str, tree: ast.Module) -> str:
    """The source lines of the definitions in `code`: imports, functions, classes, constants and
    conditional definitions; usage examples are dropped."""
    lines = code.splitlines()
    defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    keep = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            pass
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            if _calls_defined(node, defined):
                continue  # `result = f(3)`: a usage example
        elif isinstance(node, (ast.If, ast.Try)) and not _is_main_guard(node):
            pass
        else:
            continue
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        keep.append("\n".join(lines[first - 1:node.end_lineno]))
    return "\n".join(keep) + "\n"


def _join(preamble: str, code: str) -> str:
    if not preamble:
        return code
    return preamble.rstrip("\n") + "\n\n" + code


def _from_blocks(blocks: list[str], preamble: str, prompt_code: str, entry_point: str) -> Extraction:
    parsed = []
    broken = False
    for block in blocks:
        code = textwrap.dedent(block)
        tree = parse_quietly(code) if _compiles(code) else None
        if tree is None:
            broken = broken or re.search(rf"\bdef\s+{re.escape(entry_point)}\b", code) is not None
            continue
        parsed.append((code, tree))
    if any(defines(tree, entry_point) for _, tree in parsed):
        program = "\n".join(definitions_only(code, tree) for code, tree in parsed)
        return Extraction(_join(preamble, program), "fenced")
    if broken:
        return Extraction(None, "none", f"the code block defining `{entry_point}` has a syntax error")
    # A block holding only the function's body continues the prompt (re-indented when written flush).
    for block in blocks:
        first = next((line for line in block.splitlines() if line.strip()), "")
        if first[:1] in (" ", "\t"):
            body = block
        elif not _compiles(textwrap.dedent(block)):
            body = textwrap.indent(textwrap.dedent(block), "    ")
        else:
            continue  # whole statements that define something else
        cont = continuation(prompt_code, body, entry_point)
        if cont.program is not None:
            return Extraction(cont.program, "fenced")
    return Extraction(None, "none", f"no code block defines `{entry_point}`")


def continuation(prompt_code: str, response: str, entry_point: str) -> Extraction:
    """prompt + response, cut at the first top-level non-definition line after the prompt, then
    trimmed from the end until it parses and defines `entry_point`."""
    lines = response.split("\n")
    # Unless the prompt ends a line, the response's first line continues it: never a stop line then.
    for i in range(0 if prompt_code.endswith("\n") else 1, len(lines)):
        if _STOP_LINE.match(lines[i]):
            lines = lines[:i]
            break
    for _ in range(min(len(lines), _MAX_TRIM) + 1):
        program = prompt_code + "\n".join(lines)
        tree = parse_quietly(program)
        if tree is not None:
            if not defines(tree, entry_point):
                return Extraction(None, "none", f"the program does not define `{entry_point}`")
            return Extraction(program.rstrip() + "\n", "continuation")
        lines = lines[:-1]
        if not lines:
            break
    return Extraction(None, "none", "the continuation does not parse")


def extract_program(response: str, *, prompt_code: str, entry_point: str, preamble: str) -> Extraction:
    """The program a response stands for (see the module docstring for the rules)."""
    if not response.strip():
        return Extraction(None, "none", "empty response")
    blocks = fenced_blocks(response)
    if blocks:
        return _from_blocks(blocks, preamble, prompt_code, entry_point)
    whole = textwrap.dedent(response).strip("\n") + "\n"
    tree = parse_quietly(whole)
    if tree is not None and defines(tree, entry_point):
        return Extraction(_join(preamble, definitions_only(whole, tree)), "full")
    cont = continuation(prompt_code, response, entry_point)
    if cont.program is None:
        embedded = _code_in_prose(response, entry_point)
        if embedded is not None:
            return Extraction(_join(preamble, embedded), "full")
    return cont


_CODE_START = re.compile(r"^(?:def|class|import|from|async\s+def|@)\b|^@")


def _code_in_prose(text: str, entry_point: str) -> str | None:
    """Unfenced code inside prose ("Here is the function:\ndef f(...): ...\nIt works because..."):
    from the first line that starts a definition, the longest run of lines that parses and
    defines `entry_point`."""
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if _CODE_START.match(line)), None)
    if start is None:
        return None
    for end in range(len(lines), max(start, len(lines) - _MAX_TRIM), -1):
        code = "\n".join(lines[start:end]) + "\n"
        tree = parse_quietly(code)
        if tree is not None and defines(tree, entry_point):
            return definitions_only(code, tree)
    # Prose after the code: grow from the start instead.
    best = None
    for end in range(start + 1, min(len(lines), start + 400) + 1):
        code = "\n".join(lines[start:end]) + "\n"
        tree = parse_quietly(code)
        if tree is not None and defines(tree, entry_point):
            best = definitions_only(code, tree)
    return best


# -- examples from the prompt --------------------------------------------------------------------

_MAX_CALLS = 10


def _balanced(text: str, start: int) -> int | None:
    """Index just past the parenthesis closing the one at `start`, skipping string literals."""
    depth, i, quote = 0, start, None
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def _literal_call(expr: str, entry_point: str) -> str | None:
    """`expr` normalized when it is a call of `entry_point` whose arguments use no names."""
    try:
        node = ast.parse(expr.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError):
        return None
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == entry_point):
        return None
    for arg in [*node.args, *(k.value for k in node.keywords)]:
        if any(isinstance(n, (ast.Name, ast.Attribute, ast.Lambda)) for n in ast.walk(arg)):
            return None
    return ast.unparse(node)


def example_calls(text: str, entry_point: str) -> tuple[str, ...]:
    """Calls of `entry_point` written in `text` (docstring examples such as `>>> f(1, 2)` or
    `f([1, 2]) ➞ 3`, or an example assert), normalized and deduplicated, at most ten."""
    out: list[str] = []
    for m in re.finditer(rf"(?<![\w.]){re.escape(entry_point)}\s*\(", text):
        if re.search(r"def\s+$", text[max(0, m.start() - 8):m.start()]):
            continue
        end = _balanced(text, m.end() - 1)
        if end is None:
            continue
        call = _literal_call(text[m.start():end], entry_point)
        if call is not None and call not in out:
            out.append(call)
        if len(out) >= _MAX_CALLS:
            break
    return tuple(out)
