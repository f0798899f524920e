"""Finding the final answer in a long model response.

Order, first hit wins (each searched from the end of the text, in time linear in its length):
1. the last `\\boxed{...}` / `\\fbox{...}` (nested braces balanced; also `\\boxed 5`);
2. Minerva's "Final Answer: The final answer is X. I hope it is correct.";
3. the last `#### X` (GSM8K's format);
4. the last "the answer is X" / "answer: X" (X up to the end of its line; a `$...$` span in it wins);
5. the last line `A: X`;
6. a short one-line response (80 characters or fewer) that is not a sentence, as a whole: a bare answer;
7. the last `$...$` span in a short response (2,000 characters or fewer);
8. the last number in the text; else a short response of words as a whole (a text answer).
The phrase forms (2-5) keep only the leading number when the rest is words ("18 dollars per day").
A gold answer may be a bare answer or a full solution: `gold_answer` takes its last box or `####`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BOX_CMDS = ("\\boxed", "\\fbox")
_MINERVA = re.compile(r"final answer is[ \t]*:?[ \t]*(?P<a>[^\n]*?)[ \t]*(?:\.?[ \t]*I hope it is correct|$)",
                      re.IGNORECASE | re.MULTILINE)
_HASHES = re.compile(r"####[ \t]*(?P<a>[^\n]*)")
_ANSWER_IS = re.compile(r"answer(?:[ \t]+is|[ \t]*:)[ \t:]*(?P<a>[^\n]*)", re.IGNORECASE)
_A_LINE = re.compile(r"^[ \t]*A[ \t]*:[ \t]*(?P<a>[^\n]*)$", re.MULTILINE)
_NUMBER = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?(?:/\d+)?|-?\.\d+")
_DOLLAR_SPAN = re.compile(r"(?<!\\)\$\$?(?P<a>(?:\\\$|[^$])+?)(?<!\\)\$\$?|\\\((?P<b>.+?)\\\)")
_LEAD_NUMBER = re.compile(r"^\s*\\?\$?\s*(?P<n>-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:/\d+)?)\b(?P<rest>.*)$")
_WORD3 = re.compile(r"(?<![\\a-zA-Z])[a-zA-Z]{3,}")
_MATH_WORDS = frozenset(
    "sqrt frac pi sin cos tan cot sec csc log exp text mbox dfrac tfrac cdot times infty pmatrix bmatrix "
    "matrix vmatrix array cases left right".split()
)


@dataclass(frozen=True, slots=True)
class Extraction:
    text: str | None  # the answer as written (before cleaning); None when nothing was found
    method: str  # boxed | minerva | hashes | answer_is | a_line | last_number | none | whole


def _box_content(text: str, start: int) -> str | None:
    """The argument of the box command whose name ends at `start`."""
    i = start
    n = len(text)
    while i < n and text[i] in " \t":
        i += 1
    if i < n and text[i] == "{":
        depth = 0
        for j in range(i, n):
            c = text[j]
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    return text[i + 1: j]
        return None
    m = re.match(r"[^\s$]+", text[i: i + 200])
    return m.group() if m else None


def last_boxed(text: str) -> str | None:
    """Content of the last well-formed `\\boxed{...}` or `\\fbox{...}` (up to 8 tried from the end)."""
    end = len(text)
    for _ in range(8):
        pos = max(text.rfind(cmd, 0, end) for cmd in _BOX_CMDS)
        if pos < 0:
            return None
        name_end = pos + (len("\\boxed") if text.startswith("\\boxed", pos) else len("\\fbox"))
        content = _box_content(text, name_end)
        if content is not None and content.strip():
            return content
        end = pos
    return None


def _last(pattern: re.Pattern[str], text: str) -> str | None:
    last = None
    for m in pattern.finditer(text):
        last = m
    if last is None:
        return None
    a = last.group("a").strip()
    return a or None


def _trim_phrase(a: str) -> str:
    """A phrase answer without its prose: the first $...$ span if any, else the leading number when words follow."""
    span = _DOLLAR_SPAN.search(a)
    if span and (a.replace("\\$", "").count("$") >= 2 or span.group("b")):
        inner = (span.group("a") or span.group("b") or "").strip()
        if inner:
            return inner
    a = a.strip().strip("*").strip().rstrip(".").strip("*").strip()  # markdown bold: "**12**."
    m = _LEAD_NUMBER.match(a)
    if m and any(w.lower() not in _MATH_WORDS for w in _WORD3.findall(m.group("rest"))):
        return m.group("n")
    return a


def extract_answer(text: str) -> Extraction:
    """The final answer of a response (see the module docstring for the order)."""
    boxed = last_boxed(text)
    if boxed is not None:
        return Extraction(boxed.strip(), "boxed")
    for method, pattern in (("minerva", _MINERVA), ("hashes", _HASHES), ("answer_is", _ANSWER_IS),
                            ("a_line", _A_LINE)):
        found = _last(pattern, text)
        if found is not None:
            trimmed = _trim_phrase(found)
            if trimmed:
                return Extraction(trimmed, method)
    short = text.strip()
    if short and len(short) <= 80 and "\n" not in short and not _is_prose(short):
        return Extraction(short, "whole")  # a bare answer ("4\frac{2}{3}", "(2, 4)") is its own answer
    spans = list(_DOLLAR_SPAN.finditer(text[-2000:]))
    if spans and len(short) <= 2000:
        last = spans[-1]
        inner = (last.group("a") or last.group("b") or "").strip()
        if inner:
            return Extraction(inner, "last_math")
    found = None
    for m in _NUMBER.finditer(text):
        found = m
    if found is not None:
        return Extraction(found.group(), "last_number")
    if short and len(short) <= 80 and "\n" not in short:
        return Extraction(short, "whole")  # words only ("Evelyn"): a text answer
    return Extraction(None, "none")


def _is_prose(s: str) -> bool:
    """A sentence rather than an answer: two or more words of 3+ letters that are not LaTeX names."""
    return sum(1 for w in _WORD3.findall(s) if w.lower() not in _MATH_WORDS) >= 2


def gold_answer(gold: str) -> str:
    """A reference answer from a bare answer or a full worked solution (its last box, else its `####`)."""
    if "\\boxed" in gold or "\\fbox" in gold:
        boxed = last_boxed(gold)
        if boxed is not None:
            return boxed.strip()
    if "####" in gold:
        return gold.rsplit("####", 1)[1].strip()
    return gold.strip()
