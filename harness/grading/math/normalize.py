"""String-level cleanup of an extracted answer before it is tokenized.

What it does, and why each step is safe to do on text alone:
- drops math delimiters (`$...$`, `\\(...\\)`, `\\[...\\]`), spacing commands (`\\!`, `\\,`, `~`, `\\quad`)
  and sizing commands (`\\left`, `\\right`, `\\big`, `\\displaystyle`): they never change a value;
- maps synonyms to one spelling (`\\dfrac`/`\\tfrac` -> `\\frac`, `\\cdot`/`\\times`/`×` -> `*`, `−` -> `-`,
  `π` -> `\\pi`, `°`/`^\\circ` -> `\\degree`, `%`/`\\%` -> `\\percent`), so the parser knows one form;
- removes currency (`$`, `\\$`), a trailing unit (`\\text{ cm}^2`, `\\mbox{ inches}`, `5 dollars`) and a
  leading `x =`-free variable membership (`x \\in [a,b]` -> `[a,b]`);
- removes thousands separators where they cannot be list commas: always for `{,}` and `,\\!` (LaTeX's
  explicit thousands forms), otherwise only when the whole answer is one number like `58,500` (or a
  labelled one, `y = 58,500`);
- reads the joiners of a listed answer as commas (`4 and 5 and 6`, `12, 7 or 3`, `8, 15, and 40`) when
  they stand between math, not between words ("black and white" stays text);
- spells the percent words (`percent`, `per cent`, `pct`, `percentage`, `percentage points`) as the sign;
- trims trailing punctuation (`.`, `;`, `,`), a stray trailing backslash or line break (`12\\\\`) and
  surrounding whitespace;
- with `decimal_comma=True` (a locale convention, off by default) reads `3,5` as 3.5 and `1.234,5` as
  1234.5; otherwise a comma between digits is a list comma or a thousands separator.
Every step is linear in the length of the text (no backtracking regexes on unbounded input).
"""

from __future__ import annotations

import re

_UNICODE = {
    "−": "-", "–": "-", "—": "-", "×": "*", "·": "*", "⋅": "*", "÷": "/", "π": "\\pi ", "∞": "\\infty ",
    "√": "\\sqrt ", "≤": "\\le ", "≥": "\\ge ", "≠": "\\ne ", "±": "\\pm ", "∪": "\\cup ", "∈": "\\in ",
    "°": "\\degree ", "≈": "\\approx ", "\u00a0": " ", "\u2009": " ", "\u202f": " ", "…": "...",
    "½": " \\frac{1}{2}", "⅓": " \\frac{1}{3}", "⅔": " \\frac{2}{3}", "¼": " \\frac{1}{4}", "¾": " \\frac{3}{4}",
    "⅕": " \\frac{1}{5}", "⅛": " \\frac{1}{8}",
    "ℝ": "\\mathbb{R}", "⁻¹": "^{-1}", "²": "^2", "³": "^3",
}
_SYNONYMS = [
    ("\\dfrac", "\\frac"), ("\\tfrac", "\\frac"), ("\\cfrac", "\\frac"),
    ("\\cdot", "*"), ("\\times", "*"), ("\\ast", "*"), ("\\div", "/"),
    ("\\leq", "\\le"), ("\\geq", "\\ge"), ("\\leqslant", "\\le"), ("\\geqslant", "\\ge"),
    ("\\neq", "\\ne"), ("\\lt", "<"), ("\\gt", ">"), ("\\mp", "\\pm"),
    ("\\dbinom", "\\binom"), ("\\tbinom", "\\binom"), ("\\infin", "\\infty"),
    ("\\bmatrix", "\\pmatrix"),
]
_DROP = re.compile(
    r"\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|Biggl|Biggr|big|Big|bigg|Bigg|displaystyle|textstyle"
    r"|scriptstyle|limits|nolimits)(?![a-zA-Z])"
)
_SPACES = re.compile(r"(?<!\\)\\[,;: ]|\\q?quad(?![a-zA-Z])|~|\\hspace\*?\{[^{}]*\}")
_NEG_SPACE = re.compile(r"(?<!\\)\\!")
_DEGREE = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|\^\s*\{\s*\\text\{\s*o\s*\}\s*\}|\\circ(?![a-zA-Z])|\\degree(?![a-zA-Z])")
_UNWRAP = re.compile(r"\\(?:mathbf|textbf|mathit|textit|boldsymbol|bm|mathsf|emph|mathnormal|operatorname\*?)\s*(?=\{)")
_UNIT_WORDS = (
    "cm|mm|km|meters?|metres?|centimeters?|kilometers?|millimeters?|inches|inch|ft|feet|foot|yd|yards?|"
    "miles?|mi|units?|sq|square|cubic|degrees?|deg|radians?|rad|dollars?|cents?|hours?|hrs?|minutes?|mins?|"
    "seconds?|days?|weeks?|months?|years?|kg|grams?|kilograms?|pounds?|lbs?|oz|ounces?|liters?|"
    "litres?|ml|gallons?|mph|people|persons?|students?|apples?|books?|marbles?|pages?|points?|ways?|times|"
    "cups?|boxes|bags?|eggs?|trees?|cars?|balls?|tickets?|pieces?|items?|stamps?|coins?|numbers?"
)
_TRAIL_UNIT = re.compile(
    r"(?<=[\d}).\s])\s*(?:\\(?:text|mbox|mathrm|textrm|textup|textnormal)\s*\{[^{}]*\}|(?<![a-zA-Z\\])(?:"
    + _UNIT_WORDS + r")(?![a-zA-Z]))\s*(?:\^\s*\{?\s*[23]\s*\}?)?\s*$"
)
_PERCENT_WORD = re.compile(r"\s*(?<!\\)\b(?:percentage(?:\s+points?)?|percent|per cent|pct)\b")
_TEXT_JOIN = re.compile(r"\\(?:text|mbox|textrm|mathrm)\s*\{\s*(and|or)\s*\}")
_JOIN_WORD = re.compile(r"\s*,?\s*\b(?:and|or)\b\s*")
_DECIMAL_COMMA = re.compile(r"(?<![\d.,])(\d{1,3}(?:\.\d{3})+|\d+),(\d+)(?![\d,]|\.\d)")
_MEMBERSHIP = re.compile(r"^\s*[a-zA-Z]\s*\\in\s*")
_THOUSANDS_EXPLICIT = re.compile(r"(?<=\d)\s*(?:\{\s*,\s*\}|,\\!)\s*(?=\d{3})")
_WHOLE_THOUSANDS = re.compile(r"^-?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?$|^-?[1-9]\d{0,2}(?: \d{3})+(?:\.\d+)?$")
_LABELLED_THOUSANDS = re.compile(r"^(?P<l>[^=,]{1,40}=\s*)(?P<n>-?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?)$")
_DELIMS = [("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")]
# A decimal followed by an ellipsis ("0.666...", "0.3\\ldots"): kept as `\\ldots` for the parser.
_ELLIPSIS = re.compile(r"(?<=\d)\s*(?:\.\.\.|\\[lc]?dots(?![a-zA-Z]))")
# A condition after the answer: "\\text{ for some } a>0", "where a > 0", ", \\quad (a>0)"; the answer is before it.
_CONDITION = re.compile(
    r"(?:,\s*)?(?:\\(?:text|mbox|textrm)\s*\{\s*(?:for|where|with|if|when|provided|assuming)\b[^{}]*\}"
    r"|(?<=[\s,}])(?:for\s+(?:some|all|any|every)|where|provided|assuming)\s+(?=[a-zA-Z\\]))")
_PAREN_CONDITION = re.compile(r"(?:,|\s)\s*\(\s*[a-zA-Z]\s*(?:>|<|\\ge|\\le|\\ne)[^()]*\)\s*$")
_REALS = re.compile(r"\\mathbb\s*\{?\s*R\s*\}?|\\R(?![a-zA-Z])|\\mathbb\s*\{\s*R\s*\}")

MAX_CLEAN_CHARS = 2000  # answers longer than this are not cleaned further (the parser refuses them)


def _strip_delimiters(s: str) -> str:
    changed = True
    while changed:
        changed = False
        s = s.strip()
        for left, right in _DELIMS:
            if len(s) >= len(left) + len(right) and s.startswith(left) and s.endswith(right):
                inner = s[len(left): len(s) - len(right)]
                if left == "$" and "$" in inner:
                    continue
                s = inner
                changed = True
    return s


def _strip_tail(s: str) -> str:
    """Without trailing punctuation and a stray trailing backslash or LaTeX line break (`12\\\\`)."""
    s = s.strip()
    while s:
        if s.endswith("\\,"):
            break
        if s[-1] in ".;,:":
            s = s[:-1].rstrip()
        elif s.endswith("\\\\"):
            s = s[:-2].rstrip()
        elif s[-1] == "\\":
            s = s[:-1].rstrip()
        else:
            break
    return s


def _mathy_side(text: str, before: bool) -> bool:
    """Whether the text next to a joiner word ends (before) or starts (after) with math, not a word."""
    t = text.rstrip() if before else text.lstrip()
    if not t:
        return False
    m = re.search(r"[A-Za-z]+$", t) if before else re.match(r"[A-Za-z]+", t)
    if m is None:
        return True
    word = m.group()
    if before and m.start() > 0 and t[m.start() - 1] == "\\":
        return True  # a command: "\\pi and 2"
    return len(word) == 1  # a symbol ("x and y"), not a word ("black and white")


def _join_words(s: str) -> str:
    if "and" not in s and "or" not in s:
        return s
    out, last = [], 0
    for m in _JOIN_WORD.finditer(s):
        if _mathy_side(s[:m.start()], True) and _mathy_side(s[m.end():], False):
            out.append(s[last:m.start()])
            out.append(", ")
            last = m.end()
    out.append(s[last:])
    return "".join(out)


def _decimal_comma(s: str) -> str:
    s = s.replace("{,}", ",")
    return _DECIMAL_COMMA.sub(lambda m: m.group(1).replace(".", "") + "." + m.group(2), s)


_WORD_ANSWERS = [
    (re.compile(r"^(?:there\s+are\s+)?infinitely\s+many(?:\s+[a-z]+)?$|^infinite(?:ly\s+many)?$"), "\\infty"),
    (re.compile(r"^(?:all\s+)?real\s+numbers$|^all\s+reals$"), "\\mathbb{R}"),
    (re.compile(r"^(?:there\s+(?:is|are)\s+)?no\s+(?:real\s+)?(?:solutions?|roots?)$|^none$"), "\\emptyset"),
]


def word_answer(raw: str) -> str:
    """A few answers in words as math (`words=True`): "infinitely many" -> \\infty, "all real numbers" ->
    \\mathbb{R}, "no solution" -> the empty set; anything else unchanged."""
    s = _strip_delimiters(raw.strip())
    s = re.sub(r"^\\(?:text|mbox|textrm)\s*\{(.*)\}$", r"\1", s).strip().rstrip(".").strip().lower()
    if len(s) > 60:
        return raw
    for pattern, spelled in _WORD_ANSWERS:
        if pattern.match(s):
            return spelled
    return raw


def drop_condition(s: str) -> str:
    """`g(x)=ax^2 \\text{ for some } a>0` -> `g(x)=ax^2`: a condition on a parameter after the answer."""
    m = _CONDITION.search(s)
    if m is not None and m.start() > 0 and s[: m.start()].strip():
        s = s[: m.start()].rstrip()
    m = _PAREN_CONDITION.search(s)
    if m is not None and "=" in s[: m.start()]:
        s = s[: m.start()].rstrip()
    return s


def clean_answer(raw: str, decimal_comma: bool = False) -> str:
    """The answer in the one spelling the tokenizer expects; see the module docstring."""
    s = raw.strip()
    if len(s) > MAX_CLEAN_CHARS:
        return s
    for old, new in _UNICODE.items():
        if old in s:
            s = s.replace(old, new)
    s = _strip_delimiters(s)
    s = drop_condition(s)
    if "..." in s or "dots" in s:
        s = _ELLIPSIS.sub(r"\\ldots ", s)
    if "R" in s:
        s = _REALS.sub(r"(-\\infty, \\infty)", s)
    if decimal_comma:
        s = _decimal_comma(s)
    s = _THOUSANDS_EXPLICIT.sub("", s)
    s = _NEG_SPACE.sub("", s)
    s = _SPACES.sub(" ", s)
    s = _DROP.sub("", s)
    for old, new in _SYNONYMS:
        if old in s:
            s = re.sub(re.escape(old) + r"(?![a-zA-Z])", lambda _m, new=new: new, s)
    s = s.replace("\\begin{bmatrix}", "\\begin{pmatrix}").replace("\\end{bmatrix}", "\\end{pmatrix}")
    s = s.replace("\\begin{matrix}", "\\begin{pmatrix}").replace("\\end{matrix}", "\\end{pmatrix}")
    s = _DEGREE.sub(" \\\\degree ", s)
    s = s.replace("\\%", "\\percent ").replace("%", "\\percent ")
    s = _PERCENT_WORD.sub(" \\\\percent", s)
    s = s.replace("\\$", "").replace("$", "")
    s = _UNWRAP.sub("", s)
    s = _MEMBERSHIP.sub("", s)
    s = _join_words(_TEXT_JOIN.sub(r" \1 ", s))
    s = _strip_tail(s)
    for _ in range(3):  # a unit may follow another ("5 \text{ cm}^2 \text{ each}" is rare; 3 suffices)
        new = _TRAIL_UNIT.sub("", s).rstrip()
        if new == s or not new:
            break
        s = new
    s = _strip_tail(s)
    if _WHOLE_THOUSANDS.match(s):
        s = s.replace(",", "").replace(" ", "")
    elif (m := _LABELLED_THOUSANDS.match(s)) is not None:  # "y = 58,500"
        s = m.group("l") + m.group("n").replace(",", "")
    return s
