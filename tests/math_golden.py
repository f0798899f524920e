r"""Golden cases for the math grader, as data: (gold, response, expected verdict), grouped by what they test.

Written for this project (not copied from any grader's test suite). Responses are either a bare answer
or model-like text; the grader extracts the answer itself. Conventions they encode: percent "strip"
(`33.5\%` is 33.5), exact numbers (no tolerance by default), degrees stripped, `i` the imaginary unit.
"""

C, I, U = "correct", "incorrect", "unparseable"

INTEGERS = [
    ("42", "42", C), ("42", "\\boxed{42}", C), ("42", "43", I), ("-7", "-7", C), ("-7", "7", I),
    ("0", "0", C), ("0", "-0", C), ("1000", "1,000", C), ("1000", "1000.0", C), ("1000", "10^3", C),
    ("12", "The answer is 12.", C), ("12", "#### 12", C), ("5", "\\boxed{5.}", C), ("5", "\\boxed{+5}", C),
    ("58500", "58,500", C), ("10080", "10,\\!080", C), ("11111111100", "11,\\! 111,\\! 111,\\! 100", C),
    ("32348", "\\$32,\\!348", C), ("7", "\\boxed{007}", C), ("2024", "\\boxed{2025}", I),
    ("100", "\\boxed{ 100 }", C), ("36", "\\$36", C), ("18", "$18", C), ("18", "\\boxed{\\$18}", C),
    ("-3", "−3", C), ("10000", "10 000", C), ("1234567", "1 234 567", C), ("(1, 2)", "\\boxed{a=1, b=2}", C),
    ("\\infty", "\\boxed{\\infty}", C), ("\\infty", "-\\infty", I), ("3", "\\boxed{x = 3}", C), ("3, 5, 7", "\\boxed{3, 5}", I), ("4", "\\boxed{2^2}", C), ("120", "5!", C), ("720", "\\boxed{6!}", C),
    ("10", "\\binom{5}{2}", C), ("6", "\\dbinom{4}{2}", C),
]

DECIMALS = [
    ("0.5", "0.5", C), ("0.5", ".5", C), ("0.5", "0.50", C), (".35625", "0.35625", C), (".0000672", "6.72 \\times 10^{-5}", C),
    ("3.21", "3.21", C), ("3.21", "3.2", I), ("1.25", "\\frac{5}{4}", C), ("4.5", "4\\frac{1}{2}", C),
    ("326.5", "326.50", C), ("0.15", "\\frac{3}{20}", C), ("2.5", "5/2", C), ("0.333", "\\frac{1}{3}", I),
    ("\\frac{1}{3}", "0.3333", I), ("-0.25", "-\\frac14", C), ("18.90", "\\$18.90", C), ("18.90", "18.9", C),
    ("0.1", "1e-1", C), ("1.5", "1.50000", C), ("2", "2.0001", I),
]

FRACTIONS = [
    ("\\frac{1}{2}", "0.5", C), ("\\frac{1}{2}", "1/2", C), ("\\frac{1}{2}", "\\dfrac{1}{2}", C),
    ("\\frac{1}{2}", "\\tfrac12", C), ("\\frac{1}{2}", "\\frac{2}{4}", C), ("\\frac{1}{2}", "\\frac{1}{3}", I),
    ("\\frac 34", "\\frac{3}{4}", C), ("\\frac 59", "5/9", C), ("\\frac14", "0.25", C), ("\\frac43", "\\frac{8}{6}", C),
    ("\\frac9{19}", "\\frac{9}{19}", C), ("\\frac{10}{11}", "10/11", C), ("-\\frac{24}{25}", "\\frac{-24}{25}", C),
    ("-\\frac{24}{25}", "-0.96", C), ("-\\frac{3}{8}", "\\frac{3}{-8}", C), ("\\dfrac{17}{50}", "0.34", C),
    ("\\dfrac{33}{100}", "33/100", C), ("\\frac{1997}{2}", "998.5", C), ("\\frac{639}{40}", "15.975", C),
    ("\\frac{3}{56}", "\\frac{6}{112}", C), ("\\frac{448}{15625}", "0.028672", C), ("\\frac{2}{3}", "0.67", I),
    ("\\frac{16}{5}", "3\\frac{1}{5}", C), ("\\frac{7}{2}", "\\frac72", C), ("\\frac{1}{16}", "2^{-4}", C),
    ("\\frac{9}{256}", "\\left(\\frac{3}{16}\\right)^2", C), ("\\frac{5}{13}", "\\frac{5}{12}", I),
]

MIXED = [
    ("137 \\frac{1}{2}", "137.5", C), ("137 \\frac{1}{2}", "\\frac{275}{2}", C), ("1\\frac{4}{5}", "\\frac{9}{5}", C),
    ("1\\frac{4}{5}", "1.8", C), ("2\\frac{1}{2}", "5/2", C), ("-1\\frac{1}{2}", "-1.5", C),
    ("\\frac{14}{3}", "4\\frac{2}{3}", C), ("\\frac{14}{3}", "4 2/3", C), ("3\\frac{1}{4}", "\\frac{3}{4}", I),
]

PERCENT = [
    ("33.5", "33.5\\%", C), ("33.5", "33.5%", C), ("33.5\\%", "33.5", C), ("25\\%", "25", C), ("25", "25 percent", C),
    ("25", "0.25", I), ("12.5\\%", "\\boxed{12.5\\%}", C), ("50", "The answer is 50%.", C), ("40", "40\\%", C),
    ("40", "\\frac{2}{5}", I),
]

SCIENTIFIC = [
    ("6.72 \\times 10^{-5}", "0.0000672", C), ("3 \\times 10^8", "300000000", C), ("3 \\times 10^8", "3e8", C),
    ("1.2 \\cdot 10^{3}", "1200", C), ("2.5\\times10^{-3}", "0.0025", C), ("10^{6}", "1,000,000", C),
    ("10^{6}", "10^{7}", I), ("4 \\times 10^2", "400.0", C),
]

SQRT = [
    ("\\sqrt{51}", "\\sqrt{51}", C), ("\\sqrt{51}", "51^{1/2}", C), ("2\\sqrt{5}", "\\sqrt{20}", C),
    ("2 \\sqrt{5}", "2\\sqrt5", C), ("11\\sqrt2", "\\sqrt{242}", C), ("\\frac{\\sqrt{3}}{3}", "\\frac{1}{\\sqrt{3}}", C),
    ("\\frac{\\sqrt{21}}{5}", "\\sqrt{21}/5", C), ("\\frac{\\sqrt{21}}{5}", "\\sqrt{\\frac{21}{25}}", C),
    ("\\frac{3\\sqrt{3}}{4}", "\\frac{3}{4}\\sqrt{3}", C), ("3 \\sqrt{5}", "3\\sqrt{6}", I), ("-\\sqrt{3}", "\\sqrt{3}", I),
    ("1+2\\sqrt{3}", "2\\sqrt{3}+1", C), ("11 \\sqrt{5} + 11", "11(\\sqrt{5}+1)", C), ("6\\sqrt{2}", "\\sqrt{72}", C),
    ("70 \\sqrt{2}", "\\sqrt{9800}", C), ("\\sqrt{66}", "sqrt(66)", C), ("2", "\\sqrt{4}", C), ("3", "\\sqrt[3]{27}", C),
    ("-2", "\\sqrt[3]{-8}", C), ("16 \\sqrt{3}", "\\sqrt{768}", C), ("\\sqrt{2}", "1.41421356", I),
    ("\\sqrt{3+2\\sqrt{2}}", "1+\\sqrt{2}", C),
]

PI = [
    ("\\pi", "\\pi", C), ("12\\pi", "12 \\pi", C), ("288 \\pi", "288\\pi", C), ("7\\pi", "\\pi \\cdot 7", C),
    ("8 \\pi", "8\\pi", C), ("18+2\\pi", "2\\pi+18", C), ("-\\frac{\\pi}{6}", "-\\pi/6", C),
    ("\\frac{20000}{\\pi}", "20000/\\pi", C), ("\\pi", "3.14", I), ("\\pi", "2\\pi", I), ("2\\pi", "\\tau", I),
    ("\\frac{\\pi}{2}", "\\frac{1}{2}\\pi", C), ("\\pi^2", "\\pi \\cdot \\pi", C),
]

DEGREES = [
    ("106^\\circ", "106", C), ("106", "106^\\circ", C), ("120^\\circ", "120^{\\circ}", C), ("90^\\circ", "90°", C),
    ("36^\\circ", "36 degrees", C), ("75^\\circ", "\\boxed{75^\\circ}", C), ("30^\\circ", "60^\\circ", I),
    ("\\frac{270}7\\text{ degrees}", "\\frac{270}{7}", C), ("145^\\circ", "145 \\text{ degrees}", C),
]

LEFT_RIGHT_CDOT = [
    ("\\left( 3, \\frac{\\pi}{2} \\right)", "(3, \\frac{\\pi}{2})", C), ("\\left( \\frac{3}{2}, -13 \\right)", "(1.5,-13)", C),
    ("\\left[ \\frac{\\pi^2}{8}, \\frac{5 \\pi^2}{4} \\right]", "[\\pi^2/8, 5\\pi^2/4]", C),
    ("6", "2 \\cdot 3", C), ("6", "2 \\times 3", C), ("15", "3 \\cdot 5", C), ("24", "4 × 6", C), ("2", "6 \\div 3", C),
    ("6", "\\left(2\\right)\\left(3\\right)", C), ("2ab", "2 \\cdot a \\cdot b", C),
]

IMPLICIT = [
    ("2k", "2k", C), ("2k", "k \\cdot 2", C), ("2k+2", "2(k+1)", C), ("3R^2", "3 R^2", C), ("5r^5", "5 r^{5}", C),
    ("(a+5)(b+2)", "ab+2a+5b+10", C), ("(a+5)(b+2)", "(b+2)(a+5)", C), ("6r^2-4r-24", "2(3r^2-2r-12)", C),
    ("2xy", "2 x y", C), ("3R^2", "3r^2", I), ("2k", "2k+1", I), ("x^2", "xx", C),
]

SYMBOLIC = [
    ("x^3+3x-6", "3x + x^3 - 6", C), ("-13x+3", "3-13x", C), ("15x - 80", "5(3x-16)", C),
    ("8n^2 + 4n + 1", "1 + 4n + 8n^2", C), ("x^5 - x^4 + x^3 - x^2 + x - 1", "(x-1)(x^4+x^2+1)", C),
    ("x^8 + x^7 + x^6 + x^5 + x^4 + x^3 + x^2 + x + 1", "\\frac{x^9-1}{x-1}", C), ("p - q", "-q + p", C),
    ("p - q", "q - p", I), ("\\frac{11+9a}{20}", "\\frac{11}{20}+\\frac{9a}{20}", C), ("\\cot x", "\\frac{\\cos x}{\\sin x}", C),
    ("\\cot x", "\\tan x", I), ("\\sin^2 x + \\cos^2 x", "1", C), ("\\frac{x^2-1}{x-1}", "x+1", C), ("(x+1)^2", "x^2+2x+1", C),
    ("(x+1)^2", "x^2+1", I), ("e^{2x}", "(e^x)^2", C), ("\\ln(x^2)", "2\\ln x", C), ("\\log_2 8", "3", C),
    ("2^{10}", "1024", C), ("\\frac{a}{b}", "a/b", C), ("\\frac{a}{b}", "b/a", I), ("|x|", "\\sqrt{x^2}", C),
    ("\\sin(2x)", "2\\sin x \\cos x", C), ("\\sin 30^\\circ", "\\frac{1}{2}", C), ("\\theta + 1", "1 + \\theta", C),
    ("a_1 + a_2", "a_2 + a_1", C), ("x^{-1}", "\\frac{1}{x}", C), ("\\frac{1}{x+1}", "\\frac{1}{x}+1", I),
]

COMPLEX = [
    ("6 - 5i", "6-5i", C), ("-2 + 7i", "7i - 2", C), ("1 - 12i", "1-12i", C), ("1+274i", "274i+1", C),
    ("1+2i", "(1+i)^2 + 1", C), ("6+9i", "3(2+3i)", C), ("6 - 5i", "6+5i", I), ("i", "\\sqrt{-1}", C),
]

EQUATIONS = [
    ("x=5", "5", C), ("5", "x = 5", C), ("x=5", "x=5", C), ("x=5", "y=5", I), ("y = -2x", "-2x", C),
    ("y = 2x + 3", "y=2x+3", C), ("y = 2x + 3", "2x+3", C), ("y = 2x + 3", "y = 3 + 2x", C), ("y = 2x + 3", "y=2x-3", I),
    ("5x - 7y + 11z + 4 = 0", "-5x+7y-11z-4=0", C), ("5x - 7y + 11z + 4 = 0", "10x-14y+22z+8=0", C),
    ("5x - 7y + 11z + 4 = 0", "5x-7y+11z-4=0", I), ("x + y = 1", "y = 1 - x", C), ("k = 3", "The value is $k = 3$.", C),
]

INTERVALS = [
    ("(-\\infty, 0]", "(-\\infty,0]", C), ("(-\\infty, 0]", "(-\\infty, 0)", I), ("(3,4]", "(3, 4]", C),
    ("(3,4]", "[3,4]", I), ("(2,\\infty)", "(2, \\infty)", C), ("(2,\\infty)", "x > 2", C), ("(5,\\infty)", "x>5", C),
    ("(-\\infty, 0]", "x \\le 0", C), ("x \\in [-2,7]", "[-2,7]", C), ("x \\in [-2,7]", "-2 \\le x \\le 7", C),
    ("(-\\infty, 2) \\cup (3, \\infty)", "(3,\\infty)\\cup(-\\infty,2)", C), ("(-\\infty, 2) \\cup (3, \\infty)", "(-\\infty,2)\\cup[3,\\infty)", I),
    ("(0,9) \\cup (9,36)", "(0, 9) \\cup (9, 36)", C), ("(2,12) \\cup (12,102)", "(2,102)", I),
    ("\\left(\\frac{3}{5},\\frac{8}{3}\\right]", "(0.6, 8/3]", C), ("[2,5)", "[2, 5)", C), ("[2,5)", "\\left[2,5\\right)", C),
    ("(-\\infty,\\infty)", "(-\\infty, \\infty)", C),
]

TUPLES = [
    ("(-1,6)", "(-1, 6)", C), ("(-1,6)", "(6,-1)", I), ("(1,-16,-4,43)", "(1, -16, -4, 43)", C), ("(15,-29)", "(15, -29)", C),
    ("(6,31,-1)", "(6,31,1)", I), ("(8,-2)", "\\left(8,-2\\right)", C), ("(-2,1)", "(-2,1.0)", C),
    ("(-\\sqrt{3}, \\sqrt{3})", "(-\\sqrt3,\\sqrt3)", C), ("(2,4)", "(2, 4)", C), ("(2,4)", "(2,4,6)", I),
    ("\\left( 3, \\frac{\\pi}{2} \\right)", "(3, 90^\\circ)", I), ("(1,2)", "(\\frac{2}{2}, \\frac{4}{2})", C),
    ("(0.5, 1)", "(\\frac12, 1)", C),
]

SETS = [
    ("-2,1", "1,-2", C), ("1,-2", "-2, 1", C), ("3, 5, 7", "7, 5, 3", C), ("3, 5, 7", "3, 5", I),
    ("\\{1\\pm\\sqrt{5},-2\\}", "-2, 1+\\sqrt5, 1-\\sqrt5", C), ("\\{1\\pm\\sqrt{5},-2\\}", "\\{-2, 1-\\sqrt{5}, 1+\\sqrt{5}\\}", C),
    ("1 \\pm \\sqrt{19}", "1+\\sqrt{19}, 1-\\sqrt{19}", C), ("3 \\pm 2 \\sqrt{2}", "3-2\\sqrt{2}, 3+2\\sqrt{2}", C),
    ("3 \\pm 2 \\sqrt{2}", "3+2\\sqrt{2}", I), ("\\{1, 2\\}", "\\{2, 1\\}", C), ("\\{1, 2\\}", "\\{1, 3\\}", I),
    ("1,-2", "x = 1, x = -2", C), ("\\emptyset", "\\varnothing", C), ("\\pm 3", "3, -3", C),
    ("\\frac{1 \\pm \\sqrt{5}}{2}", "\\frac{1+\\sqrt5}{2}, \\frac{1-\\sqrt5}{2}", C),
]

MATRICES = [
    ("\\begin{pmatrix} -1 & 0 \\\\ 0 & -1 \\end{pmatrix}", "\\begin{pmatrix}-1&0\\\\0&-1\\end{pmatrix}", C),
    ("\\begin{pmatrix} -1 & 0 \\\\ 0 & -1 \\end{pmatrix}", "\\begin{bmatrix} -1 & 0 \\\\ 0 & -1 \\end{bmatrix}", C),
    ("\\begin{pmatrix} -1 & 0 \\\\ 0 & -1 \\end{pmatrix}", "\\begin{pmatrix} 1 & 0 \\\\ 0 & 1 \\end{pmatrix}", I),
    ("\\begin{pmatrix} -1/3 \\\\ 2/3 \\\\ 5/3 \\end{pmatrix}", "\\begin{pmatrix} -\\frac13 \\\\ \\frac23 \\\\ \\frac53 \\end{pmatrix}", C),
    ("\\begin{pmatrix} 1/5 \\\\ -18/5 \\end{pmatrix}", "\\begin{pmatrix} 0.2 \\\\ -3.6 \\end{pmatrix}", C),
    ("\\begin{pmatrix} -18 \\\\ -49 \\\\ 96 \\end{pmatrix}", "(-18, -49, 96)", C),
    ("\\begin{pmatrix} -7 \\\\ 16 \\\\ 5 \\end{pmatrix}", "\\begin{pmatrix} -7 \\\\ 16 \\\\ -5 \\end{pmatrix}", I),
    ("\\begin{pmatrix} 16/49 \\\\ 48/49 \\\\ 24/49 \\end{pmatrix}", "\\frac{8}{49}\\begin{pmatrix} 2 \\\\ 6 \\\\ 3 \\end{pmatrix}", U),
    ("\\begin{pmatrix} 1 & 2 \\end{pmatrix}", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", I),
]

TEXT = [
    ("\\text{Evelyn}", "Evelyn", C), ("\\text{Evelyn}", "\\text{evelyn}", C), ("\\text{Evelyn}", "The answer is Evelyn.", C),
    ("\\text{Navin}", "\\text{Evelyn}", I), ("\\text{east}", "East", C), ("\\text{ellipse}", "\\text{an ellipse}", C),
    ("\\text{even}", "\\text{odd}", I), ("\\text{even}", "even", C), ("\\text{east}", "\\textbf{east}", C),
    ("5", "no solution", U), ("\\text{yes}", "Yes", C), ("\\text{Monday}", "\\text{monday}", C),
]

CHOICES = [
    ("\\text{(B)}", "B", C), ("\\text{(B)}", "(B)", C), ("\\text{(B)}", "\\boxed{B}", C), ("\\text{(B)}", "\\boxed{\\text{(B)}}", C),
    ("\\text{(C)}", "(D)", I), ("\\text{(E)}", "\\textbf{(E)}", C), ("\\text{(E)}", "E", C), ("(A)", "A", C),
    ("\\text{(C)}", "The answer is (C).", C), ("\\text{(C)}", "C)", C), ("B", "\\text{(B)}", C), ("\\text{(B)}", "b", I),
    ("\\text{(C)}", "\\boxed{\\textbf{(C)}\\ 12}", C), ("\\text{(C)}", "\\boxed{(C) 12}", C), ("\\text{(C)}", "\\boxed{\\text{C}}", C),
]

BASES = [
    ("204_5", "204_5", C), ("4210_{5}", "4210_5", C), ("2516_8", "2516", C), ("52_8", "53_8", I), ("40_9", "40_{9}", C),
]

UNITS = [
    ("15\\mbox{ cm}^2", "15", C), ("15", "15 \\text{ cm}^2", C), ("864 \\mbox{ inches}^2", "864", C),
    ("5.4 \\text{ cents}", "5.4", C), ("5.4", "5.4 cents", C), ("18", "18 dollars", C), ("12", "12 \\text{ meters}", C),
    ("30", "30 \\text{ minutes}", C), ("100", "100 square units", C),
]

EXTRACTION = [
    ("7", "We add: $3 + 4 = 7$. So the answer is $\\boxed{7}$.", C),
    ("\\frac{1}{2}", "First $\\boxed{3}$ is wrong; finally \\boxed{\\frac{1}{2}}", C),
    ("\\frac{\\sqrt{3}}{2}", "Thus the value is \\boxed{\\frac{\\sqrt{3}}{2}}.", C),
    ("\\frac{\\sqrt{3}}{2}", "\\fbox{$\\frac{\\sqrt{3}}{2}$}", C),
    ("5", "The answer is \\boxed 5.", C),
    ("18", "Janet sells 16 - 3 - 4 = 9 duck eggs a day.\nShe makes 9 * 2 = $18 every day.\n#### 18", C),
    ("18", "She makes 9 * 2 = 18 dollars.\nThe answer is 18.", C),
    ("18", "She makes 9 * 2 = 18 dollars.\nThe answer is: 18", C),
    ("18", "... so 18.\nFinal Answer: The final answer is $18$. I hope it is correct.", C),
    ("-\\frac{2}{3}", "Final Answer: The final answer is $-\\frac{2}{3}$. I hope it is correct.", C),
    ("[2,5)", "Final Answer: The final answer is $[2,5)$. I hope it is correct.", C),
    ("42", "Q: what is 6*7?\nA: 42", C),
    ("3", "Adding the numbers 1 and 2 gives 3", C),
    ("3", "I computed 1 + 2 and then doubled it, so 6 is my result", I),
    ("1000", "The answer is 1,000.", C),
    ("1000", "The answer is $1,000.00.", C),
    ("5", "Answer: 5 apples", C),
    ("0.5", "The answer is 0.5.", C),
    ("12", "the answer is **12**.", C),
    ("\\frac{1}{2}", "the answer is $\\frac{1}{2}$, since half of the pie remains.", C),
    ("(3, 4)", "so the point is \\boxed{(3, 4)}.", C),
    ("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\boxed{\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}}", C),
    ("10", "\\boxed{\\frac{\\frac{20}{2}}{1}}", C),
    ("4", "The answer is \\boxed{{4}}", C),
    ("x^2", "\\boxed{x^{2}}", C),
    ("2", "Let me think.\n\n**Final answer:** 2", C),
    ("2", "", U),
    ("2", "I don't know.", U),
    ("2", "\\boxed{}", U),
    ("9", "The answer is 9. Let me double check: 3 * 3 = 9.", C),
    ("17", "\\[\\boxed{17}\\]", C),
    ("17", "$\\boxed{17}$", C),
    ("-5", "\\boxed{-5}", C),
    ("25", "The answer is $25\\%$.", C),
    ("\\text{(B)}", "So the correct option is \\boxed{B}.", C),
]

GOLD_SOLUTIONS = [  # gold given as a full solution: its last box (or ####) is the answer
    ("The sum is $3+4=\\boxed{7}$.", "7", C),
    ("We get $x = \\boxed{\\frac{1}{2}}$, because ...", "0.5", C),
    ("Janet makes 9 * 2 = 18\n#### 18", "18", C),
    ("so the area is $\\boxed{12\\pi}$ square units.", "12\\pi", C),
]

GROUPS = {
    "integers": INTEGERS, "decimals": DECIMALS, "fractions": FRACTIONS, "mixed": MIXED, "percent": PERCENT,
    "scientific": SCIENTIFIC, "sqrt": SQRT, "pi": PI, "degrees": DEGREES, "left_right_cdot": LEFT_RIGHT_CDOT,
    "implicit": IMPLICIT, "symbolic": SYMBOLIC, "complex": COMPLEX, "equations": EQUATIONS, "intervals": INTERVALS,
    "tuples": TUPLES, "sets": SETS, "matrices": MATRICES, "text": TEXT, "choices": CHOICES, "bases": BASES,
    "units": UNITS, "extraction": EXTRACTION, "gold_solutions": GOLD_SOLUTIONS,
}

CASES = [(group, gold, response, expected) for group, cases in GROUPS.items() for gold, response, expected in cases]
