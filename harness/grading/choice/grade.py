"""Multiple choice: the committed final letter of a long response, graded in the original choice order.

Extraction looks for *commitments*, not mentions. In order of strength:

1. Explicit commitments, the last one in the text wins (a model that changes its mind ends with the
   answer it settled on): "Answer: C", "the (final|correct|best) answer/option/choice is (C)",
   "\\boxed{C}", "\\boxed{\\text{C}}", "**C**" or "(C)" alone on the first or last line, "I'll go with C",
   "so the answer is C", "so C.", "it's C.", "best guess: C", "C is the correct answer",
   "the answer is not A but C", the letter followed by
   its option text ("Answer: C) 600 nm"), or the option text itself after a commitment when the options
   are known. Conditional phrasings ("if the answer is A ...") do not commit.
2. Only when there is no explicit commitment: weak mentions ("C is correct", "it might be C",
   "leaning towards C", "between B and C"). Exactly one distinct letter commits; several is a hedge.

A commitment naming several letters ("the answer is B or C", "either A or D", "Answer: B, C") is a
hedge and makes the sample `unparseable`, as does a letter outside the item's range, so a response
that lists letters without choosing is never credited with the first one it mentions.

Letters that are also words ("A", "I", and lower-case letters) count only when what follows them is not
an ordinary lower-case word ("the answer is a polar molecule"), unless it is the option's own text.

The grader maps the letter a sample chose (in the ordering that sample was shown) back to the ORIGINAL
choice through the permutation stored in `item.meta["perms"]`: sample i saw ordering
`perms[i % len(perms)]`, where `perm[j]` is the original index of the choice shown at position j.
`Grade.extracted` is the letter as shown, `Grade.canonical` the original letter; votes group by the
original letter, so samples agree across orderings, and the gold letter is in the original order.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from harness.errors import DataError
from harness.records import Grade, Item
from harness.grading.base import classes_by_key

LETTERS = string.ascii_uppercase
DEFAULT_SCORE_CHOICES = 10  # `harness score --task choice` lines without `choices`/`n_choices`: A-J

# Words that may follow a committed letter that is also an English word ("A because ...").
_CONNECTORS = frozenset(
    "because since as is was which and but so here this that it for given with seems looks appears "
    "fits matches remains would should could must best correct corresponds stands or nor too also instead "
    "rather not then".split()
)
# After a second letter, these make it a new clause ("Answer: C, and A is wrong"), not a hedge.
_CLAUSE_VERBS = re.compile(
    r"\s+(?:is|was|isn't|wasn't|seems|looks|can't|cannot|fails|does|doesn't|has|would|could|might|may|"
    r"gives|describes|refers|states|says|ignores|confuses|only)\b"
)
_WRAPPER = re.compile(
    r"(?:\s+|\*+|_+|`+|[\"'“”‘’$(\[{]|\\[(\[]|"
    r"\\(?:text|textbf|textit|texttt|mathrm|mathbf|mathtt|boxed|fbox)\s*\{|"
    r"(?i:option|choice|letter)\b\s*[:：]?)"
)
_CLOSER = re.compile(r"(?:\s*(?:\*+|_+|`+|[\"'“”‘’$)\]}]|\\[)\]]))*")
_VARIABLE = re.compile(r"_[{A-Za-z0-9]|\s*(?:=|≈|<|>|\+|\^|/|×|\\times|\\cdot|\\approx)")
_SEP = re.compile(r"\s*(?:[.):\-–—]|\*\*)?\s*")

# Longer phrases first: the regex takes the first alternative that matches.
_VERB = (
    r"(?:\s+(?:is\s+therefore|is\s+thus|is\s+clearly|is\s+definitely|is\s+indeed|is\s+then|"
    r"is\s+most\s+likely|is\s+likely|is\s+probably|would\s+most\s+likely\s+be|"
    r"would\s+be|should\s+be|must\s+be|will\s+be|has\s+to\s+be|has\s+got\s+to\s+be|"
    r"therefore\s+is|then\s+is|here\s+is|appears\s+to\s+be|seems\s+to\s+be|is|was))"
)
_COMMIT_PHRASES = [
    ("answer", re.compile(r"\banswer\b(?:\s+(?:choice|option|letter)\b)?" + _VERB + r"?\s*(?:[:=：]|-\s)?", re.I)),
    ("correct-option", re.compile(
        r"\b(?:correct|right|best|final|only\s+correct|most\s+(?:likely|appropriate|accurate|plausible|reasonable)|"
        r"proper|true)\s+(?:option|choice|answer|letter|response|one|statement|selection)\b" + _VERB + r"?\s*[:=]?",
        re.I)),
    ("chosen", re.compile(
        r"\b(?:I(?:\s+will|\s+would|\s+shall|\s*['’]ll|\s*['’]d)\s+(?:go\s+with|choose|select|pick|answer)|"
        r"I\s+(?:choose|select|pick|go\s+with)|(?:let's|let\s+us|we)\s+(?:go\s+with|choose|select|pick)|"
        r"my\s+(?:final\s+)?(?:answer|choice|pick|selection)(?:\s+(?:is|would\s+be|will\s+be))?\s*:?|"
        r"(?:best|my|final)\s+guess(?:\s+(?:is|would\s+be))?\s*:?|"
        r"(?:^|\n)\s*(?:\*\*)?(?:select|choose|pick)\b)", re.I)),
    ("closest", re.compile(r"\b(?:closest|nearest)(?:\s+(?:option|choice|answer|one|match))?" + _VERB + r"\s*:?",
                           re.I)),
    ("so", re.compile(r"\b(?:therefore|thus|hence|so|consequently|accordingly|ergo)\s*[,:]?\s*", re.I)),
    ("boxed", re.compile(r"\\(?:boxed|fbox)\s*\{", re.I)),
    # "it's B." / "that's C!": only a letter ending the sentence (checked in _commit_after)
    ("it's", re.compile(r"\b(?:it's|it\s+is|that's|that\s+is)\s+", re.I)),
]
# "C is the correct answer", "Option C is the answer": the letter comes first.
_LETTER_FIRST = re.compile(
    r"(?<![Ss]tatement )(?:(?<![A-Za-z0-9])|\b(?:option|choice)\s+)\(?(?P<L>[A-Z])\)?\*{0,2}\s+is\s+"
    r"(?:indeed\s+|clearly\s+|therefore\s+|thus\s+|definitely\s+)?(?:the\s+)?"
    r"(?:(?:correct|right|best|only\s+correct|most\s+\w+)\s+(?:answer|option|choice|one)|answer)\b"
)
_WEAK = [
    re.compile(r"(?:(?<![A-Za-z0-9])|\b(?:option|choice)\s+)\(?(?P<L>[A-Z])\)?\*{0,2}\s+is\s+"
               r"(?:the\s+)?(?:correct|right|true|accurate|best)\b(?!\s+(?:only|if|when|but|for\s+some))"),
    re.compile(r"\b(?:answer|it|this)\s+(?:might|may|could|would|should|probably|likely|is\s+probably|is\s+likely)"
               r"(?:\s+be)?\s+", re.I),
    re.compile(r"\blean(?:ing|s)?\s+(?:towards?|to)\s+", re.I),
    re.compile(r"\b(?:comes|boils)\s+down\s+to\s+", re.I),
    re.compile(r"\b(?:must|has\s+to)\s+be\s+(?=\S{1,12}\s*(?:[.!\n]|$))", re.I),
    re.compile(r"\b(?:which|that|this)\s+(?:is|corresponds\s+to|matches)\s+(?=(?:option|choice)\b)", re.I),
]
_BETWEEN = re.compile(r"\b(?:between|either)\s+", re.I)
_CLAUSE_START = re.compile(r"[.!?\n;]|\b(?:but|then|so|therefore|thus|hence|however)\b", re.I)
_NEGATED = re.compile(
    r"\s*(?:is|was|seems|looks)\s+(?:not|wrong|incorrect|false|eliminated|ruled|out|a\s+distractor)\b", re.I)
_LISTING = re.compile(r"[ \t]*(?:[).:]|\*\*)[^\n]*\n\s*(?:\*\*)?\(?[A-Z](?:[).:]|\*\*)")
_JOINER = re.compile(r"\s*(?:,\s*(?:or|and)?|or|and|/|&|vs\.?|versus)\s*(?:maybe\s+|possibly\s+|perhaps\s+)?",
                     re.I)
_BUT = re.compile(r"\s*[,;]?\s*(?:but|rather)\s+(?:rather\s+|instead\s+)?(?:it\s+is\s+|it's\s+)?", re.I)
_SENTENCE_END = re.compile(r"\s*(?:[.!\n]|$|is\s+(?:the\s+)?(?:correct|right|best|answer))")
_LABEL = re.compile(r"\s*(?:\*\*)?\(?([A-Z])(?:\)|\.|:)\s*")
_CONDITIONAL = re.compile(
    r"\b(?:if|suppose|supposing|assume|assuming|whether|unless|tempting|one\s+might|might\s+think|"
    r"could\s+argue|would\s+think|may\s+seem|might\s+seem|not\s+that)\b", re.I)


@dataclass(frozen=True, slots=True)
class Extraction:
    """The committed letter as shown to the model (upper case), or None; `how` names the rule that
    decided, or why there is no letter (hedge, out of range, none found)."""

    letter: str | None
    how: str


@dataclass(frozen=True, slots=True)
class _Commit:
    pos: int
    letters: tuple[str, ...]  # one letter = a commitment; several = a hedge
    how: str


def _norm(s: str) -> str:
    return re.sub(r"[\s*_`$]+", " ", s).strip().lower().rstrip(".")


def _option_at(text: str, pos: int, options: Sequence[str] | None) -> str | None:
    """The letter of the single option whose text starts at `pos` (longest match, whole words)."""
    if not options:
        return None
    head = _norm(text[pos:pos + 400])
    hits = []
    for j, opt in enumerate(options):
        o = _norm(str(opt))
        if o and head.startswith(o) and (len(head) == len(o) or not head[len(o)].isalnum()):
            hits.append((len(o), j))
    if not hits:
        return None
    hits.sort(reverse=True)
    if len(hits) > 1 and hits[0][0] == hits[1][0]:
        return None
    return LETTERS[hits[0][1]]


def _skip_wrappers(text: str, pos: int, limit: int = 40) -> int:
    start = pos
    while pos - start < limit:
        m = _WRAPPER.match(text, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
    return pos


def _token_at(text: str, pos: int, options: Sequence[str] | None = None) -> tuple[str, int] | None:
    """A letter token starting at `pos` (after wrappers like `**`, `(`, `\\boxed{`, `option`), as
    (upper-case letter, end after closers), or None when what is there is not a standalone letter."""
    p = _skip_wrappers(text, pos)
    if p >= len(text) or text[p] not in string.ascii_letters:
        return None
    ch, q = text[p], p + 1
    nxt = text[q] if q < len(text) else ""
    if nxt and (nxt.isalnum() or nxt in "-'’"):
        return None
    if nxt == "." and q + 1 < len(text) and text[q + 1].isalnum():
        return None  # e.g., i.e.
    if _VARIABLE.match(text, q):
        return None  # "F = ma", "I_0/2": a symbol, not a letter
    if options and nxt.isspace() and _option_at(text, p, options) is not None:
        return None  # "I and III" is an option's text, not the letter I
    end = _CLOSER.match(text, q).end()
    if ch in "AaIi" or ch.islower():
        word = re.match(r"[ \t]+([a-z][a-z']*)", text[q:q + 40])
        if word and word.group(1) not in _CONNECTORS:
            sep = _SEP.match(text, q).end()
            if _option_at(text, sep, options) != ch.upper():
                return None
    return ch.upper(), end


def _hedge_after(text: str, end: int, options: Sequence[str] | None) -> list[str]:
    """Further letters joined to a committed one ("B or C", "B, C", "B/C", "B and C")."""
    more: list[str] = []
    while True:
        m = _JOINER.match(text, end)
        if not m or m.end() == end:
            return more
        tok = _token_at(text, m.end(), options)
        if tok is None:
            return more
        joiner = m.group(0).strip().lower()
        if not joiner.startswith(("or", "/", "vs")) and _CLAUSE_VERBS.match(text, tok[1]):
            return more  # "Answer: C, and A is wrong": a new clause about another letter
        more.append(tok[0])
        end = tok[1]


def _commit_after(text: str, start: int, pos: int, how: str, options: Sequence[str] | None) -> _Commit | None:
    """The commitment made by a phrase ending at `pos`, or None when no letter follows it."""
    rest = text[pos:pos + 12].lower()
    if rest.startswith("either "):
        pos += 7
    elif rest.startswith("not "):  # "the answer is not A but C"
        tok = _token_at(text, pos + 4, options)
        if tok is None:
            return None
        m = _BUT.match(text, tok[1])
        if not m:
            return None
        pos, how = m.end(), how + ", not-but"
    tok = _token_at(text, pos, options)
    if tok is None:
        sep = _skip_wrappers(text, pos)
        letter = _option_at(text, sep, options)
        return None if letter is None else _Commit(start, (letter,), how + ", option text")
    if how in ("so", "it's"):  # "so C." commits; "so A is wrong" does not
        after = text[tok[1]:tok[1] + 40]
        if not _SENTENCE_END.match(after):
            return None
    if _NEGATED.match(text, tok[1]):
        return None  # "answer: A is wrong"
    if _LISTING.match(text, _skip_wrappers(text, pos) + 1):
        return None  # "each answer choice:\nA) ...\nB) ...": a list of the options, not a choice
    letters = (tok[0], *_hedge_after(text, tok[1], options))
    return _Commit(start, tuple(dict.fromkeys(letters)), how)


def _conditional(text: str, start: int) -> bool:
    """Whether the clause holding `start` puts the phrase under a condition ("if the answer is A")."""
    lo = max(0, start - 200)
    clause_start = lo
    for m in _CLAUSE_START.finditer(text, lo, start):
        clause_start = m.end()
    return bool(_CONDITIONAL.search(text, clause_start, start))


def _line_commits(text: str, options: Sequence[str] | None) -> list[_Commit]:
    """A letter alone on the last line (or on the first, when no other line is a bare letter), or a
    letter followed by exactly its option's text there."""
    lines = [(m.start(), m.group(0)) for m in re.finditer(r"[^\n]+", text) if m.group(0).strip()]
    if not lines:
        return []
    bare = []
    for start, line in lines:
        tok = _token_at(line, 0, options)
        if tok is not None and not line[tok[1]:].strip(" .:*_`$)]}\\"):
            bare.append((start, tok[0]))
    out = []
    last_start, first_start = lines[-1][0], lines[0][0]
    for start, letter in bare:
        if start == last_start or (start == first_start and len(bare) == 1):
            out.append(_Commit(start, (letter,), "letter line"))
    if not options:
        return out
    labelled = [bool(_LABEL.match(line)) for _, line in lines]
    for idx in {0, len(lines) - 1}:
        start, line = lines[idx]
        neighbour = idx + 1 if idx == 0 else idx - 1
        if any(b[0] == start for b in bare) or (0 <= neighbour < len(lines) and labelled[neighbour]):
            continue  # a list of the options, not an answer
        m = _LABEL.match(line)
        if m and _option_at(line, m.end(), options) == m.group(1):
            out.append(_Commit(start, (m.group(1),), "letter and option line"))
    return out


def _strong_commits(text: str, options: Sequence[str] | None) -> list[_Commit]:
    found: list[_Commit] = []
    for how, pat in _COMMIT_PHRASES:
        for m in pat.finditer(text):
            c = _commit_after(text, m.start(), m.end(), how, options)
            if c is not None and (how == "boxed" or not _conditional(text, m.start())):
                found.append(c)
    for m in _LETTER_FIRST.finditer(text):
        if not _conditional(text, m.start()):
            found.append(_Commit(m.start(), (m.group("L"),), "letter is the answer"))
    found += _line_commits(text, options)
    return found


def _weak_letters(text: str, options: Sequence[str] | None) -> list[str]:
    letters: list[str] = []
    for pat in _WEAK:
        for m in pat.finditer(text):
            if _conditional(text, m.start()):
                continue
            if "L" in pat.groupindex:
                letters.append(m.group("L"))
            else:
                tok = _token_at(text, m.end(), options)
                if tok is not None:
                    letters += [tok[0], *_hedge_after(text, tok[1], options)]
    for m in _BETWEEN.finditer(text):
        tok = _token_at(text, m.end(), options)
        if tok is not None:
            letters += [tok[0], *_hedge_after(text, tok[1], options)]
    return letters


def _decide(letters: Sequence[str], n_choices: int, how: str) -> Extraction:
    distinct = list(dict.fromkeys(letters))
    if len(distinct) > 1:
        return Extraction(None, f"hedge between {'/'.join(distinct)} ({how})")
    letter = distinct[0]
    if LETTERS.index(letter) >= n_choices:
        return Extraction(None, f"letter {letter} out of range A-{LETTERS[n_choices - 1]} ({how})")
    return Extraction(letter, how)


def extract_choice(text: str, n_choices: int, options: Sequence[str] | None = None,
                   direct: bool = False) -> Extraction:
    """The letter (as shown) that `text` commits to, for a question with `n_choices` options.
    `options`: the option texts in the order shown, when known (lets "Answer: 600 nm" and
    "C. 600 nm" count). `direct`: the response is a continuation of "Answer:" (plain prompts), so a
    letter at its very start is the answer; otherwise the full rules apply."""
    if not 1 <= n_choices <= len(LETTERS):
        raise ValueError(f"n_choices must be in 1..{len(LETTERS)}, got {n_choices}")
    if options is not None and len(options) != n_choices:
        raise ValueError(f"{len(options)} options for {n_choices} choices")
    if direct:
        tok = _token_at(text, 0, options)
        if tok is not None:
            return _decide([tok[0], *_hedge_after(text, tok[1], options)], n_choices, "direct")
    strong = _strong_commits(text, options)
    if strong:
        last = max(strong, key=lambda c: c.pos)
        return _decide(last.letters, n_choices, last.how)
    weak = _weak_letters(text, options)
    in_range = [w for w in weak if LETTERS.index(w) < n_choices]
    weak = in_range or weak
    if weak:
        return _decide(weak, n_choices, "weak mention")
    return Extraction(None, "no committed letter")


def item_perms(item: Item) -> list[list[int]]:
    """The orderings an item is shown in (`meta["perms"]`); else the dataset order over its
    `choices` or `meta["n_choices"]`; else (a bare gold letter, e.g. ingested lines) A-J."""
    perms = item.meta.get("perms")
    if perms:
        return [list(p) for p in perms]
    n = item.meta.get("n_choices") or len(item.fields.get("choices", ())) or DEFAULT_SCORE_CHOICES
    return [list(range(int(n)))]


def shown_options(item: Item, perm: Sequence[int]) -> list[str] | None:
    choices = item.fields.get("choices")
    return None if choices is None else [str(choices[p]) for p in perm]


class ChoiceGrader:
    """Grades letters in the original choice order. `direct=True` for plain (answer-only) prompts."""

    def __init__(self, direct: bool = False) -> None:
        self.direct = direct

    def grade_one(self, item: Item, response: str, sample_index: int, perms: Sequence[Sequence[int]]) -> Grade:
        perm = perms[sample_index % len(perms)]
        ex = extract_choice(response, len(perm), shown_options(item, perm), self.direct)
        if ex.letter is None:
            return Grade(None, None, "unparseable", None, ex.how)
        original = LETTERS[perm[LETTERS.index(ex.letter)]]
        verdict = "correct" if original == item.gold.strip().upper() else "incorrect"
        return Grade(ex.letter, original, verdict, None, f"{ex.how}; shown {ex.letter} = original {original}")

    def grade(self, batch: Sequence[tuple[Item, Sequence[str]]]) -> list[list[Grade]]:
        out = []
        for item, responses in batch:
            perms = item_perms(item)
            grades = [self.grade_one(item, r, i, perms) for i, r in enumerate(responses)]
            classes = classes_by_key([g.canonical for g in grades])
            out.append([Grade(g.extracted, g.canonical, g.verdict, c, g.detail) for g, c in zip(grades, classes)])
        return out

    def close(self) -> None:
        pass


def line_range(line: Mapping[str, Any], n_choices: int | None = None) -> int:
    """How many letters a scored line allows: its `choices`, else its `n_choices`, else A-J."""
    choices = line.get("choices")
    if choices:
        return len(choices)
    return int(line.get("n_choices") or n_choices or DEFAULT_SCORE_CHOICES)


def item_from_line(line: Mapping[str, Any], item_id: str) -> Item:
    """An Item for a line of `harness score --task choice`: `gold` is a letter as the response saw
    the options (no permutation); `choices` (the option texts) or `n_choices` bound the range."""
    n = line_range(line)
    gold = str(line.get("gold", "")).strip().upper()
    if not 2 <= n <= len(LETTERS) or len(gold) != 1 or gold not in LETTERS[:n]:
        raise DataError(f"item {item_id}: gold {line.get('gold')!r} is not a letter A-{LETTERS[min(n, 26) - 1]}")
    fields: dict[str, Any] = {}
    if line.get("choices"):
        fields["choices"] = [str(c) for c in line["choices"]]
    return Item(id=item_id, gold=gold, fields=fields, meta={"n_choices": n})
