"""Model text as markdown that can only render as text and math: pure functions, no Streamlit.

A sample's text is untrusted. `st.markdown` already escapes HTML (the app never passes
`unsafe_allow_html`), but markdown itself would still turn a model's text into links, images,
headings, tables or Streamlit's colour and icon directives. So every ASCII punctuation character
outside math is backslash-escaped (CommonMark's escape: the character shows as itself), leading
indentation is kept with no-break spaces (never an indented code block) and line breaks are kept.

Math the model wrote as `$...$`, `$$...$$`, `\\(...\\)` or `\\[...\\]` goes to KaTeX as math, which
runs without `trust` in Streamlit (no `\\href`, `\\url`, `\\includegraphics`, no HTML): the worst a
formula can do is fail to parse and show in red. A single `$` follows Pandoc's rule (a non-space
right after the opening one, a non-space before the closing one, no digit after it), so prices
("$5 and $10") stay text.

The extracted answer is highlighted where it occurs in the text (inside `\\boxed{...}` first, else
its last occurrence): with a coloured background in text, with `\\textcolor` inside math.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_MATH = 4000  # a longer "formula" is shown as text
_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character
_MATH = re.compile(
    r"(?P<esc>\\\$)"
    r"|\$\$(?P<display>.+?)\$\$"
    r"|\\\[(?P<bracket>.+?)\\\]"
    r"|\\\((?P<paren>.+?)\\\)"
    r"|\$(?!\s)(?P<inline>(?:\\.|[^\\$\n])+?)(?<!\s)\$(?!\d)",
    re.DOTALL,
)
# Colours for a verdict: a Streamlit directive colour for text and a KaTeX colour for math.
_COLOURS = {"correct": ("green", "#1a7f37"), "incorrect": ("red", "#cf222e")}
_DEFAULT_COLOUR = ("orange", "#bc4c00")


@dataclass(frozen=True, slots=True)
class _Segment:
    start: int
    end: int
    math: str | None  # None: text; else the formula (without delimiters)
    display: bool = False
    inner: int = 0  # where the formula starts in the text (after its opening delimiter)


def _segments(text: str) -> list[_Segment]:
    out: list[_Segment] = []
    pos = 0
    for m in _MATH.finditer(text):
        if m.group("esc") is not None:
            continue  # an escaped dollar is text
        name = next(g for g in ("display", "bracket", "paren", "inline") if m.group(g) is not None)
        formula = m.group(name)
        if len(formula) > MAX_MATH or not formula.strip():
            continue
        if m.start() > pos:
            out.append(_Segment(pos, m.start(), None))
        out.append(_Segment(m.start(), m.end(), formula, name in ("display", "bracket"), m.start(name)))
        pos = m.end()
    if pos < len(text):
        out.append(_Segment(pos, len(text), None))
    return out


def escape_text(text: str, line_start: bool = True) -> str:
    """Plain text as markdown that renders as exactly that text, line breaks and indentation kept
    (`line_start`: whether `text` begins a line, so its leading spaces are indentation)."""
    lines = []
    for n, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n")):
        stripped = line.lstrip(" \t") if n or line_start else line
        indent = line[: len(line) - len(stripped)].replace("\t", "    ").replace(" ", "\u00a0")
        lines.append(indent + _PUNCT.sub(r"\\\1", stripped))
    # Two spaces before a newline: a hard line break (a blank line stays a paragraph break).
    return "  \n".join(lines)


def _balanced(s: str) -> bool:
    depth = 0
    for ch in re.sub(r"\\.", "", s):
        depth += ch == "{"
        depth -= ch == "}"
        if depth < 0:
            return False
    return depth == 0


def _formula(seg: _Segment, mark: tuple[int, int] | None, colour: str) -> str:
    formula = seg.math or ""
    if mark is not None:
        s, e = mark[0] - seg.inner, mark[1] - seg.inner
        if 0 <= s < e <= len(formula) and _balanced(formula[s:e]):
            formula = formula[:s] + r"\textcolor{" + colour + "}{" + formula[s:e] + "}" + formula[e:]
    if seg.display:
        return "\n\n$$\n" + formula.strip("\n") + "\n$$\n\n"
    return "$" + " ".join(formula.split("\n")) + "$"


def answer_span(text: str, answer: str | None) -> tuple[int, int] | None:
    """Where the extracted answer is in the text: inside the last `\\boxed{answer}`, else its last
    occurrence; None when it does not occur (the page still shows it beside the text)."""
    if answer is None or not answer.strip():
        return None
    boxed = text.rfind(r"\boxed{" + answer + "}")
    if boxed >= 0:
        start = boxed + len(r"\boxed{")
        return start, start + len(answer)
    at = text.rfind(answer)
    return (at, at + len(answer)) if at >= 0 else None


def sample_markdown(text: str, answer: str | None = None, verdict: str | None = None) -> str:
    """`text` as safe markdown (see the module doc), the answer highlighted in its verdict's colour."""
    span = answer_span(text, answer)
    word, katex = _COLOURS.get(verdict or "", _DEFAULT_COLOUR)
    out: list[str] = []
    line_start = True
    for seg in _segments(text):
        inside = span is not None and seg.start <= span[0] and span[1] <= seg.end
        if seg.math is not None:
            out.append(_formula(seg, span if inside else None, katex))
            line_start = seg.display
            continue
        if inside and span is not None and "\n" not in text[span[0]:span[1]]:
            before, mid, after = text[seg.start:span[0]], text[span[0]:span[1]], text[span[1]:seg.end]
            out.append(escape_text(before, line_start) + f":{word}-background[**{escape_text(mid, False)}**]"
                       + escape_text(after, False))
        else:
            out.append(escape_text(text[seg.start:seg.end], line_start))
        line_start = False
    return "".join(out)


def code_span(value: object) -> str:
    """A value as an inline code span, whatever backticks it holds (one line)."""
    s = " ".join(str(value).split())
    if not s:
        return "—"
    run = max((len(m) for m in re.findall(r"`+", s)), default=0)
    fence = "`" * (run + 1)
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{fence}{pad}{s}{pad}{fence}"



def pivotal_markdown(text: str, marks: list[tuple[int, int, float]]) -> str:
    """`text` as safe markdown (escaped like every sample; math stays text here, so every token stays
    where it was) with each pivotal token (start, end, delta p) bold on a background: green where p
    rises after it, red where it falls. A token of blanks shows as open boxes (one per character)."""
    out: list[str] = []
    pos = 0
    line_start = True
    for start, end, delta in sorted(marks):
        if start < pos or end > len(text) or start >= end:
            continue  # overlapping or outside the text: not marked
        if start > pos:
            out.append(escape_text(text[pos:start], line_start))
        colour = "green" if delta > 0 else "red"
        raw = text[start:end]
        core = raw.strip()
        if core:
            lead, trail = raw[: len(raw) - len(raw.lstrip())], raw[len(raw.rstrip()):]
            out.append(escape_text(lead, False) + f":{colour}-background[**{escape_text(core, False)}**]"
                       + escape_text(trail, False))
        else:
            out.append(f":{colour}-background[**{chr(0x2423) * len(raw)}**]")
        pos, line_start = end, False
    if pos < len(text):
        out.append(escape_text(text[pos:], line_start))
    return "".join(out)
