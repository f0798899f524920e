r"""A held-out check of the math grader on pairs it was not tuned on: forms and labels taken from other
graders' public test suites and evaluation code (Math-Verify's tests, Qwen2.5-Math's grader and its
commented cases, lm-eval/Minerva's "Final Answer" format), rewritten here as values (gold, response,
label), never imported or copied as code. Each pair carries the verdict the source expects under its
own conventions, and whether that verdict depends on a convention:

- core (label under both): the verdict any careful grader should give (`0.5` is `\frac12`, `x=11` is 11);
- convention (strict label, lenient label): the source's label is its convention (Math-Verify's
  defaults read `1,22` as 1.22 and `0.0833333333333333` as 1/12); strict may rightly disagree.

Prints: ours under `strict` on the core pairs, ours under `lenient` on all pairs, Math-Verify (as it
is normally called) on the same pairs in the same run, and every miss.

    python benchmarks/math_heldout.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness.grading.math import MathGrader  # noqa: E402
from harness.grading.math.conventions import math_options  # noqa: E402

T, F = True, False
MV, QW, LM, FM = "math-verify tests", "qwen2.5-math grader", "minerva/lm-eval format", "issue-28 forms"

# (source, gold, response, strict label, lenient label); strict == lenient marks a core pair
PAIRS = [
    # numbers and separators (Math-Verify's number tests, rewritten)
    (MV, "-7", "-7", T, T), (MV, "8315000", "8,315,000", T, T), (MV, "2000", "2 000", T, T),
    (MV, "3000", "3000.0", T, T), (MV, "2000.5", "2,000.5", T, T), (MV, "2000.75", "2000,75", F, T),
    (MV, "1,35", "1.35", F, T), (MV, "0.3", ".3", T, T), (MV, "2000.75", "\\$2,000.75", T, T),
    (MV, "0,222", "0.222", F, T), (MV, "3", "AZYUK3A", F, F), (MV, "12/7", "\\frac{12}{7}", T, T),
    (MV, "-12/7", "-\\frac{12}{7}", T, T),
    # sets and intervals
    (MV, "[0,2)", "[0,2)", T, T), (MV, "[0,8)", "[0,2)", F, F), (MV, "(0,8)", "[0,8)", F, F),
    # delimiters after "Answer"
    (MV, "7", "Answer \\[ 7 \\]", T, T), (MV, "7", "Answer $ 7 $", T, T), (MV, "7", "Answer $$ 7 $$", T, T),
    (MV, "7", "Answer \\( 7 \\)", T, T), (MV, "11", "Answer \\( (10+1) \\)", T, T),
    (MV, "7", "Answer \\[ \n 7 \n \\]", T, T), (MV, "7", "Answer $$ \n 7 \n $$", T, T),
    (MV, "\\frac{1}{5}", "$\\frac15 $", T, T), (MV, "1", "$\\frac4{4} $", T, T), (MV, "\\sqrt{5}", "$\\sqrt5 $", T, T),
    (MV, "1/5", "$\\cfrac{1}{5} $", T, T), (MV, "1/5", "$ 1/5 $", T, T), (MV, "1/5", "$\\left( \\frac{1}{5} \\right)$", T, T),
    (MV, "1/5", "$\\frac{1}{5} \\text{meters}$", T, T), (MV, "1/5", "$k = \\frac{1}{5}$", T, T),
    # percent
    (MV, "35\\%", "35 percent", T, T), (MV, "35\\%", "35 pct", T, T), (MV, "35\\%", "35 %", T, T),
    (MV, "35\\%", "$35$ percent", T, T), (MV, "35\\%", "$\\boxed{35 pct}$", T, T),
    (MV, "35\\%", "$\\boxed{35 percentage}$", T, T), (MV, "35\\%", "35", T, T), (MV, "0.35", "35", F, F),
    (MV, "35/100", "35", F, F), (MV, "35", "35/100", F, F), (MV, "\\frac{35}{100}", "35", F, F),
    (QW, "10\\%", "0.1", F, T), (QW, "10\\%", "0.2", F, F), (QW, "0.335", "33.5\\%", F, T),
    # relations
    (MV, "x \\ge 7", "Therefore $x \\geq 7$ is the solution.", T, T), (MV, "x < 4", "We find that $x \\lt 4$.", T, T),
    (MV, "x \\le 3", "Thus $x <= 3$ is our answer.", T, T), (MV, "x > 7", "Therefore $x < 7$ is the solution.", F, F),
    (MV, "x \\le 7", "$7 \\geq x$", T, T), (MV, "x = 13", "$x = 6+6+1 = 13$", T, T),
    (MV, "13", "$x=13$", T, T), (MV, "13", "$x\\approx13$", T, T), (MV, "x < 2", "$-x > -2$", T, T),
    (MV, "x < 2", "$x > -2$", F, F), (MV, "x \\le 2", "$-x \\ge -2$", T, T), (MV, "2x + z = 1", "$1$", F, F),
    (MV, "k=3", "$3$", T, T), (MV, "3", "$k=3$", T, T), (MV, "2x+4y-3=0", "$y=-\\frac{1}{2}x+\\frac{3}{4}$", T, T),
    (MV, "x^2/9 + y^2/4 = 1", "$x^2/36 + y^2/16 = 1/4$", T, T),
    # matrices
    (MV, "\\begin{pmatrix}1 & 0 \\\\ 0 & 1\\end{pmatrix}", "The identity matrix is $ \\begin{pmatrix}1 & 0 \\\\ 0 & 1\\end{pmatrix} $.", T, T),
    (MV, "\\begin{bmatrix}0 & 0 \\\\0 & 0\\end{bmatrix}", "Here is a zero matrix: $ \\begin{pmatrix}0 & 0 \\\\0 & 0\\end{pmatrix} $", T, T),
    (MV, "\\begin{pmatrix}2 & 5 \\\\7 & 9\\end{pmatrix}", "So: $ \\left[\\begin{array}{cc}2 & 5 \\\\7 & 9\\end{array}\\right] $", T, T),
    (MV, "\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix}", "The matrix is $\\begin{pmatrix}1 & 2 \\\\ 3 & 6\\end{pmatrix}$", F, F),
    # the Qwen2.5-Math grader's own cases (its tests and commented checks), rewritten
    (QW, "\\frac{1}{12}", "0.0833333333333333", F, T), (QW, "(1,\\frac{9}{2})", "(1,4.5)", T, T),
    (QW, "\\frac{x+2}{7}", "\\frac{x}{7}+\\frac{2}{7}", T, T), (QW, "\\tan^2(y)+1", "\\sec^2(y)", T, T),
    (QW, "34x+45y-20z+100=0", "-34x-45y+20z-100=0", T, T),
    (QW, "\\frac{\\sqrt{\\sqrt{11}+\\sqrt{194}}}{15+2\\sqrt{33}}", "\\frac{\\sqrt{\\sqrt{11}+\\sqrt{194}}}{2\\sqrt{33}+15}", T, T),
    (QW, "(a+5)(b+2)", "(+5)(b+2)", F, F), (QW, "2", "\\frac{1+\\sqrt{5}}{2}", F, F),
    (QW, "4", "\\frac{34}{16}+\\frac{\\sqrt{1358}}{16}", F, F), (QW, "\\sqrt{19}", "1", F, F),
    (QW, "(\\frac{3}{5},\\frac{8}{3}]", "(0.6,2.6667]", F, T), (QW, "x+2n+1", "x+1", F, F),
    (QW, "10", "10", T, T), (QW, "10", "20", F, F), (QW, "[1, 2, 3]", "[1, 2, 3]", T, T), (QW, "[1, 2, 3]", "[1, 2, 4]", F, F),
    (QW, "(1, 2, 3)", "(1, 2, 3)", T, T), (QW, "x = y", "x = y", T, T), (QW, "x = y", "x = z", F, F),
    (QW, "x = 10", "10", T, T), (QW, "10", "x = 10", T, T), (QW, "\\frac{100}{3}", "33.3", F, T),
    (QW, "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "\\begin{pmatrix}1&2\\\\3&5\\end{pmatrix}", F, F),
    # Minerva / lm-eval "Final Answer" responses (real-model shapes)
    (LM, "28\\%", "The loss is $100\\% - 72\\% = 28\\%$. Final Answer: The final answer is $28 \\%$. I hope it is correct.", T, T),
    (LM, "14{,}916", "Final Answer: The final answer is $14 {, }916$. I hope it is correct.", T, T),
    (LM, "\\text{Evelyn}", "Therefore, $\\boxed{\\text{Evelyn}}$ is our answer.", T, T),
    (LM, "\\frac{14}{3}", "$f(-2)+f(-1)+f(0)=2+\\frac{5}{3}+1=\\boxed{\\frac{14}{3}}$", T, T),
    (LM, "(3, \\frac{\\pi}{2})", "Therefore, the polar coordinates are $\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}.$", T, T),
    (LM, "2-2p", "If $2-x=p$, then $x=2-p$. Thus $x-p=\\boxed{2-2p}$.", T, T),
    (LM, "[0,1)", "Final Answer: The final answer is $(0, 1)$. I hope it is correct.", F, F),
    (LM, "[-3,2]", "Final Answer: The final answer is $(-\\infty, -3] \\cup [2, \\infty)$. I hope it is correct.", F, F),
    (LM, "2/3", "P(A) = (1/2) * (4/3) = 2/3. Therefore, the probability that Alice wins the game is 2/3.", T, T),
    (LM, "12", "For each divisor there is one sequence. Therefore, there are 12 distinct arithmetic sequences that meet the conditions.", T, T),
    (LM, "(7,6)", "So, the ordered pair $(x, y)$ that solves the system is $(7, 6)$.", T, T),
    (LM, "189", "**Final Answer**\n\\boxed{189}\n</think>\n\nThus, the area of the trapezoid is \\(\\boxed{189}\\) square centimeters.", T, T),
    (LM, "90^\\circ", "The angle between the lines is $\\boxed{90^\\circ}$.", T, T),
    (LM, "12\\text{ and }13", "between $\\boxed{12 $ and $13 }. $ Final Answer: The final answer is \"$12 $ and $13 $\". I hope it is correct.", T, T),
    # the forms issue 28 names, in shapes of our own
    (FM, "\\frac{5}{9}", "0.\\overline{5}", T, T), (FM, "\\frac{7}{33}", "\\boxed{0.\\overline{21}}", T, T),
    (FM, "\\frac{5}{6}", "0.8\\overline{3}", T, T), (FM, "\\frac{2}{11}", "0.\\overline{18}", T, T),
    (FM, "\\frac{2}{11}", "0.\\overline{81}", F, F), (FM, "\\frac{x+1}{3}", "f^{-1}(x) = \\frac{x+1}{3}", T, T),
    (FM, "\\frac{x+1}{3}", "f^{-1}(x) = \\frac{x-1}{3}", F, F), (FM, "56", "\\frac{8!}{3!\\,5!}", T, T),
    (FM, "2^4 \\cdot 3^2 \\cdot 7", "2^4 3^2 7", T, T), (FM, "5", "Answer \\[ 5 \\]", T, T),
    (FM, "5", "We are done.\n$$ 5 $$\n", T, T),
    (FM, "\\begin{pmatrix} 3 & 1 \\\\ 0 & 2 \\end{pmatrix}", "\\left[\\begin{array}{cc} 3 & 1 \\\\ 0 & 2 \\end{array}\\right]", T, T),
    (FM, "\\frac{\\sqrt{3}}{3}", "\\frac{AM}{MC}=\\frac{1}{\\sqrt{3}}", T, T),
    (FM, "bx^3", "h(x)=bx^3 \\text{ for some } b>0", T, T), (FM, "12:00", "1:00", F, F), (FM, "6:00", "\\boxed{6:00}", T, T),
    # conventions issue 28 lists, as Math-Verify's defaults read them
    (FM, "\\sqrt{17}", "4.123105625617661", F, T), (FM, "\\frac{2}{3}", "0.666...", F, T), (FM, "\\frac{5}{7}", "0.714285\\ldots", F, T),
    (FM, "(-\\infty,-2)\\cup(2,\\infty)", "x<-2 or x>2", T, T), (FM, "(-\\infty,\\infty)", "\\mathbb{R}", T, T),
    (FM, "\\infty", "infinitely many", F, T), (FM, "\\frac{1}{2}", "½", T, T), (FM, "4, 9", "The roots are 9 and 4.", T, T),
    (FM, "7", "So the answer is \\boxed{7}. Check: \\boxed{}", T, T), (FM, "2.5", "2,5", F, T),
]

# A second batch, written after the fixes the first one led to and measured once, untuned: model-like
# responses in the shapes of Math-Verify's regression cases (long solutions, "Final Answer" lines,
# intervals, sets, percentages, thousands).
SECOND = [
    (MV, "[-3,8]", "so the solution set is the closed interval.\n\nThus, in interval notation:\n\n\\[ \\boxed{[-3, 8]} \\]", T, T),
    (MV, "[-3,8]", "$x \\in [-3,8]$", T, T),
    (MV, "4", "So $s + 6 = 3 + 2s$, hence $s = 3$, and the rod started $t = s + 1 = 4$ hours ago. Final Answer: Jane started growing Rod 4 hours ago.", T, T),
    (MV, "21", "Counting: $1 + 2 \\times 10 = 21$ points. Final Answer: The maximum number of points in the domain is 21.", T, T),
    (MV, "(\\tfrac{27}{8},\\tfrac{15}{8})", "Therefore the point is $\\boxed{(0, 0)}$. Final Answer: The final answer is $(0, 0)$. I hope it is correct.", F, F),
    (MV, "41", "Final Answer: The largest $n$ is 41.", T, T),
    (MV, "\\left( \\frac{5}{3}, -\\frac{2}{3} \\right)", "Thus, $(t,u) = \\boxed{\\left( \\frac{5}{3}, -\\frac{2}{3} \\right)}.$", T, T),
    (MV, "(4,2)", "${2,4}$", F, F), (MV, "(2,4)", "${2,4}$", T, T),
    (MV, "23481.25", "So the investment is worth approximately $\\boxed{23481.25}$ dollars. Final Answer: The final answer is 23481.25.", T, T),
    (MV, "7200", "The total is $1 \\times 3! \\times 5! \\times 10 = \\boxed{7200}$. Final Answer: The final answer is 7200. I hope it is correct.", T, T),
    (MV, "25\\%", "$$\\frac{1}{4} \\times 100\\% = \\boxed{25\\%}$$ Final Answer: The final answer is $25\\%$. I hope it is correct.", T, T),
    (MV, "8.89", "$\\frac{80}{9} \\approx 8.89$ So, Anna pays approximately $8.89 for her fudge. Final Answer: The final answer is 8.89.", T, T),
    (MV, "x+2y-z-3=0", "$$\\Rightarrow\\boxed{x+2y-z-3=0}.$$ Final Answer: The final answer is $x+2y-z-3=0$. I hope it is correct.", T, T),
    (MV, "12360", "So he has \\$12,000 + \\$360 = \\$12,360. Final Answer: The final answer is $12,360$. I hope it is correct.", T, T),
    (MV, "[-5,0]", "Thus, the values of \\( k \\) are: \\[ \\boxed{[-5, 0]} \\]", T, T),
    (MV, "200\\%", "Therefore, the minimum error in the position increases by 200%.", T, T),
    (MV, "x \\in (-\\infty, 2) \\cup (5, \\infty)", "The answer is $(-\\infty, 2) \\cup (5, \\infty)$.", T, T),
    (MV, "\\{1, 2, 3\\}", "The set is $\\{3, 1, 2\\}$.", T, T), (MV, "\\{1, 2, 3\\}", "The set is $\\{1, 2\\}$.", F, F),
    (MV, "\\frac{\\sqrt{3}}{2}", "$\\boxed{\\dfrac{\\sqrt3}{2}}$", T, T), (MV, "3\\sqrt{2}", "\\boxed{\\sqrt{18}}", T, T),
    (MV, "\\pi/3", "\\boxed{60^\\circ}", F, F), (MV, "e^{2}", "\\boxed{e^2}", T, T),
    (QW, "\\frac{1}{7}", "0.142857142857143", F, T), (QW, "(2, \\frac{7}{2})", "(2, 3.5)", T, T),
    (QW, "\\frac{x-3}{5}", "\\frac{x}{5}-\\frac{3}{5}", T, T), (QW, "\\cot^2(t)+1", "\\csc^2(t)", T, T),
    (QW, "12x-5y+3=0", "-12x+5y-3=0", T, T), (QW, "25\\%", "0.25", F, T), (QW, "\\frac{50}{3}", "16.7", F, T),
    (QW, "(\\frac{1}{4}, \\frac{5}{3})", "(0.25, 1.6667)", F, T), (QW, "x+3n", "x+3", F, F),
    (LM, "\\frac{7}{2}", "Final Answer: The final answer is $\\frac72$. I hope it is correct.", T, T),
    (LM, "-\\frac{1}{4}", "Final Answer: The final answer is $-0.25$. I hope it is correct.", T, T),
    (LM, "6", "Final Answer: The final answer is 7. I hope it is correct.", F, F),
]


def _mv(pairs: list[tuple[str, str]]) -> tuple[float, list[bool]] | None:
    try:
        from math_grader import run_math_verify
    except ImportError:
        return None
    res = run_math_verify(pairs)
    return None if res is None else (res[0], res[2])


def main() -> None:
    for title, batch in (("first batch", PAIRS), ("second batch (untuned)", SECOND)):
        print(f"== {title} ==")
        check(batch)


def check(PAIRS: list[tuple[str, str, str, bool, bool]]) -> None:  # noqa: N803 (the batch under check)
    pairs = [(g, r) for _, g, r, _, _ in PAIRS]
    results = {}
    for name in ("strict", "lenient"):
        with MathGrader(math_options(name), timeout_s=10) as grader:
            t = time.perf_counter()
            results[name] = [g.verdict == "correct" for g in grader.grade_pairs(pairs)]
            results[name + "_s"] = time.perf_counter() - t
    core = [i for i, p in enumerate(PAIRS) if p[3] == p[4]]
    mv = _mv(pairs)

    def agree(verdicts: list[bool], idx: list[int], col: int) -> str:
        ok = sum(verdicts[i] == PAIRS[i][col] for i in idx)
        return f"{ok}/{len(idx)} = {ok / len(idx):.3f}"

    every = list(range(len(PAIRS)))
    print(f"held-out pairs: {len(PAIRS)} ({len(core)} core, {len(PAIRS) - len(core)} convention-dependent)")
    print(f"  ours strict,  core pairs:         {agree(results['strict'], core, 3)}")
    print(f"  ours lenient, core pairs:         {agree(results['lenient'], core, 4)}")
    print(f"  ours lenient, all pairs:          {agree(results['lenient'], every, 4)}")
    print(f"  ours strict,  all (strict labels): {agree(results['strict'], every, 3)}")
    qw = [i for i in every if PAIRS[i][0] == QW]
    print(f"  Qwen2.5-Math grader's labels ({len(qw)} pairs, its conventions = lenient): "
          f"{agree(results['lenient'], qw, 4)}")
    if mv is not None:
        print(f"  math-verify, core pairs:          {agree(mv[1], core, 4)}")
        print(f"  math-verify, all (lenient labels): {agree(mv[1], every, 4)}")
    for name, col in (("strict", 3), ("lenient", 4)):
        for i in every:
            if results[name][i] != PAIRS[i][col] and (name == "lenient" or i in core):
                src, g, r, *_ = PAIRS[i]
                print(f"  miss ({name}, {src}): gold {g!r} response {r[-70:]!r}: expected {PAIRS[i][col]}")
    if mv is not None:
        for i in every:
            if mv[1][i] != PAIRS[i][4]:
                print(f"  math-verify miss ({PAIRS[i][0]}): gold {PAIRS[i][1]!r} response {PAIRS[i][2][-60:]!r}")


if __name__ == "__main__":
    main()
