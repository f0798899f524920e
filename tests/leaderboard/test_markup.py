"""Model text as markdown that renders only as text and math (leaderboard/markup.py): golden cases
as (text, answer, verdict, markdown), and what no model text can turn into."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.leaderboard import markup

NB = "\u00a0"
CASES = [
    # plain text: punctuation escaped, the answer marked in its verdict's colour
    ("The answer is 71.", "71", "correct", "The answer is :green-background[**71**]\\."),
    ("Wrong: 72", "72", "incorrect", "Wrong\\: :red-background[**72**]"),
    # the last occurrence is the answer (extractors take the last number)
    ("7 boxes, so 7", "7", "correct", "7 boxes\\, so :green-background[**7**]"),
    # markdown syntax stays text: links, images, headings, lists, HTML, Streamlit directives
    ("[x](javascript:alert(1))", None, None, "\\[x\\]\\(javascript\\:alert\\(1\\)\\)"),
    ("![i](http://t/p.png)", None, None, "\\!\\[i\\]\\(http\\:\\/\\/t\\/p\\.png\\)"),
    ("# Title\n- item\n1. one", None, None, "\\# Title  \n\\- item  \n1\\. one"),
    ("<script>alert(1)</script>", None, None, "\\<script\\>alert\\(1\\)\\<\\/script\\>"),
    (":red[big] :smile: **b**", None, None, "\\:red\\[big\\] \\:smile\\: \\*\\*b\\*\\*"),
    # indentation is kept without becoming a code block; line breaks are kept
    ("a\n    b", None, None, f"a  \n{NB * 4}b"),
    # math goes to KaTeX: $...$, $$...$$, \(...\), \[...\]; the answer coloured inside it
    (r"So $x = \frac{1}{2}$", r"\frac{1}{2}", "correct", r"So $x = \textcolor{#1a7f37}{\frac{1}{2}}$"),
    (r"\[ \boxed{5} \] done", "5", "incorrect", "\n\n$$\n \\boxed{\\textcolor{#cf222e}{5}} \n$$\n\n" + NB + "done"),
    (r"let \(a_1 * b\)", None, None, r"let $a_1 * b$"),
    ("$$x^2$$", None, None, "\n\n$$\nx^2\n$$\n\n"),
    # prices are not math (Pandoc's rule), an escaped dollar is text
    ("costs $5 and $10", "10", "correct", "costs \\$5 and \\$:green-background[**10**]"),
    (r"\$3 and $ x $", None, None, "\\\\\\$3 and \\$ x \\$"),
    # an answer that is not in the text is not marked (the page shows it beside the text)
    ("no number here", "9", "correct", "no number here"),
]


@pytest.mark.parametrize(("text", "answer", "verdict", "expected"), CASES)
def test_sample_markdown(text, answer, verdict, expected):
    assert markup.sample_markdown(text, answer, verdict) == expected


@pytest.mark.parametrize("text", [
    "<img src=x onerror=alert(1)>", "[a](b) <b>x</b> `code` | t | ~~s~~ > q", "https://example.com/x?y=1",
    ":material/home: :blue-background[x]", "***\n---\n===", "\\(x\\) $y$ [z]",
])
def test_no_unescaped_markup_outside_math(text):
    out = markup.sample_markdown(text)
    outside = re.sub(r"\$[^$]*\$", "", out)  # math is KaTeX's (no trust: no links, no HTML)
    unescaped = re.findall(r"(?<!\\)[\[\]<>`|~*_:!#]", outside.replace("\\\\", ""))
    assert unescaped == [], (text, out)


def test_code_span_survives_backticks():
    assert markup.code_span("a`b") == "``a`b``"
    assert markup.code_span("`x`") == "`` `x` ``"
    assert markup.code_span("two\nlines") == "`two lines`"


def test_no_page_renders_html():
    """The model's text reaches st.markdown only through markup, and no page allows raw HTML."""
    root = Path(markup.__file__).parent
    offenders = [p.name for p in root.rglob("*.py") if re.search(r"unsafe_allow_html\s*=|st\.html\(", p.read_text())]
    assert offenders == []
