"""Finding the final answer in a long model response.

Order, first hit wins (each searched from the end of the text, in time linear in its length):
1. the last `\\boxed{...}` / `\\fbox{...}` (nested braces balanced; also `\\boxed 5`); boxes at the end
   joined only by commas, "and", spacing or math delimiters (`\\boxed{4}, \\boxed{5}`,
   `\\boxed{m=3} \\quad\\text{and}\\quad \\boxed{n=1}`) are one answer listing their contents (not
   "or": "$\\boxed{15\\frac{39}{40}}$, or $\\boxed{\\frac{639}{40}}$" is one answer written twice);
2. Minerva's "Final Answer: The final answer is X. I hope it is correct.";
3. the last `#### X` (GSM8K's format);
4. the last "the answer is X" / "answer: X" / "Answer $X$" (X up to the end of its line; a `$...$` span
   that opens it wins; in a sentence, "The smallest $k$ is 17.", what follows the last "is"/"are"/"="
   is the answer);
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

from harness.grading.math.normalize import drop_condition

_BOX_CMDS = ("\\boxed", "\\fbox")
_MINERVA = re.compile(r"final answer is[ \t]*:?[ \t]*(?P<a>[^\n]*?)[ \t]*(?:\.?[ \t]*I hope it is correct|$)",
                      re.IGNORECASE | re.MULTILINE)
_HASHES = re.compile(r"####[ \t]*(?P<a>[^\n]*)")
_ANSWER_IS = re.compile(r"answer(?:[ \t]+is|[ \t]*:|[ \t]*(?=\$|\\\(|\\\[))[ \t:]*(?P<a>[^\n]*)", re.IGNORECASE)
# "Answer: \\[ ... \\]" or "**Answer**" over display math on the next lines: the display math, across lines.
_ANSWER_DISPLAY = re.compile(r"answer(?:[ \t]+is)?[ \t:*#]*(?:\n[ \t]*){0,3}(?:\\\[(?P<a>[^$]{1,600}?)\\\]"
                             r"|\$\$(?P<b>[^$]{1,600}?)\$\$|\\\((?P<c>[^$]{1,600}?)\\\))", re.IGNORECASE)
_NUM = r"-?\d+(?:\.\d+)?(?:/\d+)?"
_PART = r"(?:" + _NUM + r"|\$[^$\n]{1,80}\$|\\\([^\n]{1,80}?\\\))"
# "The solutions are 5 and 3." / "The roots are $x = 7$ and $x = -2$.": a sentence ending in a list
_PROSE_LIST = re.compile(r"\b(?:are|were|is)[ \t]+(?P<a>" + _PART + r"(?:[ \t]*,[ \t]*" + _PART + r")*,?[ \t]+and[ \t]+"
                         + _PART + r")[ \t]*\.?[ \t]*$")
_LIST_PART = re.compile(_PART)
_A_LINE = re.compile(r"^[ \t]*A[ \t]*:[ \t]*(?P<a>[^\n]*)$", re.MULTILINE)
_NUMBER = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?(?:/\d+)?|-?\.\d+")
_DOLLAR_SPAN = re.compile(r"(?<!\\)\$\$?(?P<a>(?:\\\$|[^$])+?)(?<!\\)\$\$?|\\\((?P<b>.+?)\\\)")
_LEAD_NUMBER = re.compile(r"^\s*\\?\$?\s*(?P<n>-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:/\d+)?)\b(?P<rest>.*)$")
_COPULA = re.compile(r"(?:\s(?:is|are|equals|was|be)\s|=)", re.IGNORECASE)
_JOINER = re.compile(r"^(?:[\s,;$]|\\[,;:! ]|\\q?quad(?![a-zA-Z])|\\[()\[\]]|\band\b"
                     r"|\\(?:text|mbox|textrm)\s*\{\s*(?:and|,)?\s*\})*$")
_WORD3 = re.compile(r"(?<![\\a-zA-Z])[a-zA-Z]{3,}")
_MATH_WORDS = frozenset(
    "sqrt frac pi sin cos tan cot sec csc log exp text mbox dfrac tfrac cdot times infty pmatrix bmatrix "
    "matrix vmatrix array cases left right approx quad angle".split()
)


@dataclass(frozen=True, slots=True)
class Extraction:
    text: str | None  # the answer as written (before cleaning); None when nothing was found
    method: str  # boxed | minerva | hashes | answer_is | a_line | last_number | none | whole


def _box_content(text: str, start: int) -> tuple[str, int] | None:
    """The argument of the box command whose name ends at `start`, and the index after it."""
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
                    return text[i + 1: j], j + 1
        return None
    m = re.match(r"[^\s$]+", text[i: i + 200])
    return (m.group(), i + m.end()) if m else None


def boxed_spans(text: str, limit: int = 8) -> list[tuple[int, int, str]]:
    """(start, end, content) of the last well-formed, non-empty boxes, last first (up to `limit` tried)."""
    out: list[tuple[int, int, str]] = []
    end = len(text)
    for _ in range(limit):
        pos = max(text.rfind(cmd, 0, end) for cmd in _BOX_CMDS)
        if pos < 0:
            break
        name_end = pos + (len("\\boxed") if text.startswith("\\boxed", pos) else len("\\fbox"))
        found = _box_content(text, name_end)
        if found is not None and found[0].strip():
            out.append((pos, found[1], found[0]))
        end = pos
    return out


def last_boxed(text: str) -> str | None:
    """Content of the last well-formed `\\boxed{...}` or `\\fbox{...}` (up to 8 tried from the end)."""
    spans = boxed_spans(text)
    return spans[0][2] if spans else None


def final_boxes(text: str) -> str | None:
    """The last box, or the last boxes joined by ", " when only commas, "and", spacing or math
    delimiters separate them (one answer split over boxes)."""
    spans = boxed_spans(text)
    if not spans:
        return None
    parts = [spans[0][2].strip()]
    for (_, prev_end, content), (start, _, _) in zip(spans[1:], spans):
        gap = text[prev_end:start]
        if len(gap) > 60 or not _JOINER.match(gap):
            break
        parts.append(content.strip())
    return ", ".join(reversed(parts))


def _last(pattern: re.Pattern[str], text: str) -> str | None:
    last = None
    for m in pattern.finditer(text):
        last = m
    if last is None:
        return None
    a = last.group("a").strip()
    return a or None


def _trim_phrase(a: str, depth: int = 0) -> str:
    """A phrase answer without its prose: a $...$ span that opens it; in a sentence ("The smallest $k$ is
    17."), what follows its last "is"/"are"/"="; else the first $...$ span, else the leading number
    when words follow."""
    span = _DOLLAR_SPAN.search(a)
    has_span = span is not None and (a.replace("\\$", "").count("$") >= 2 or span.group("b") is not None)
    if has_span and span is not None and not a[: span.start()].strip(" \t*:"):
        inner = (span.group("a") or span.group("b") or "").strip()
        if inner:
            return inner
    if depth == 0 and _is_prose(_DOLLAR_SPAN.sub(" ", a)):
        last = None
        for m in _COPULA.finditer(a):
            if m.group() != "=" or not _inside_span(a, m.start()):
                last = m
        if last is not None and a[last.end():].strip(" .*"):
            return _trim_phrase(a[last.end():], depth + 1)
    if has_span and span is not None:
        inner = (span.group("a") or span.group("b") or "").strip()
        if inner:
            return inner
    a = a.strip().strip("*").strip().rstrip(".").strip("*").strip()  # markdown bold: "**12**."
    m = _LEAD_NUMBER.match(a)
    if m and any(w.lower() not in _MATH_WORDS for w in _WORD3.findall(m.group("rest"))):
        return m.group("n")
    if depth == 0 and _is_prose(a) and "$" not in a and "\\" not in a:
        numbers = _NUMBER.findall(a)
        if len(numbers) == 1:  # "Jane started growing Rod 4 hours ago.": a sentence around one number
            return numbers[0]
    return a


def _inside_span(a: str, pos: int) -> bool:
    """Whether a[pos] lies inside a $...$ or \\(...\\) span."""
    return any(m.start() < pos < m.end() for m in _DOLLAR_SPAN.finditer(a))


def extract_answer(text: str) -> Extraction:
    """The final answer of a response (see the module docstring for the order)."""
    boxed = final_boxes(text)
    if boxed is not None:
        return Extraction(boxed.strip(), "boxed")
    for method, pattern in (("minerva", _MINERVA), ("hashes", _HASHES), ("answer_is", _ANSWER_IS),
                            ("a_line", _A_LINE)):
        if method == "answer_is":
            display = _answer_display(text)
            if display is not None:
                return Extraction(display, "answer_is")
        found = _last(pattern, text)
        if found is not None:
            trimmed = _trim_phrase(found)
            if trimmed:
                return Extraction(trimmed, method)
    short = text.strip()
    if (short and len(short) <= 80 and "\n" not in short and not _is_prose(drop_condition(short))
            and not _words_around_math(short)):
        return Extraction(short, "whole")  # a bare answer ("4\frac{2}{3}", "(2, 4)") is its own answer
    listed = _PROSE_LIST.search(text[-300:])
    if listed is not None:  # "The solutions are 5 and 3." ends with a list of numbers or math spans
        parts = [p.strip("$").strip() for p in _LIST_PART.findall(listed.group("a"))]
        parts = [p[2:-2].strip() if p.startswith("\\(") else p for p in parts]
        return Extraction(", ".join(parts), "last_number")
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


def _words_around_math(s: str) -> bool:
    """Text outside a `$...$` span ("So: $x$"): then the span, not the whole line, is the answer."""
    spans = list(_DOLLAR_SPAN.finditer(s))
    if not spans:
        return False
    outside = _DOLLAR_SPAN.sub(" ", s)
    return bool(re.search(r"[A-Za-z]{2,}", outside))


def _answer_display(text: str) -> str | None:
    """Display math right after the last "answer" phrase (`Answer: \\[\n9\n\\]`), when that phrase is
    the last one: its content, which may span lines."""
    last = None
    for m in _ANSWER_DISPLAY.finditer(text[-5000:]):
        last = m
    if last is None:
        return None
    tail = text[-5000:][last.end():]
    if re.search(r"answer(?:[ \t]+is|[ \t]*:)", tail, re.IGNORECASE):
        return None
    inner = (last.group("a") or last.group("b") or last.group("c") or "").strip()
    return inner or None


def _is_prose(s: str) -> bool:
    """A sentence rather than an answer: two or more words of 3+ letters that are not LaTeX names or the
    joiners "and"/"or" ("4 and 5 and 6" is an answer)."""
    return sum(1 for w in _WORD3.findall(s) if w.lower() not in _MATH_WORDS and w.lower() != "and") >= 2


def gold_answer(gold: str) -> str:
    """A reference answer from a bare answer or a full worked solution (its last box, else its `####`)."""
    if "\\boxed" in gold or "\\fbox" in gold:
        boxed = final_boxes(gold)
        if boxed is not None:
            return boxed.strip()
    if "####" in gold:
        return gold.rsplit("####", 1)[1].strip()
    return gold.strip()
