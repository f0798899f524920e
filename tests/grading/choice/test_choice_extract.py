"""Golden cases for committed-letter extraction: (response, number of choices, expected letter or None).

None means `unparseable`: no commitment, a hedge between letters, or a letter out of range. The
responses imitate real chain-of-thought output: long reasoning, options weighed and rejected, letters
mentioned before the one committed to, LaTeX and Markdown decorations, lower case.
"""

from __future__ import annotations

import pytest

from harness.grading.choice.grade import extract_choice

CASES: list[tuple[str, int, str | None]] = [
    # --- the requested answer line, plainly
    ("Answer: C", 4, "C"),
    ("Let me think. The photon detector has efficiency 0.1, so the mean is 10 and the variance is "
     "100*0.1*0.9 = 9, so the rms deviation is 3.\n\nAnswer: B", 4, "B"),
    ("ANSWER: D", 4, "D"),
    ("answer: a", 4, "A"),
    ("Answer:C", 4, "C"),
    ("The reasoning is below.\n\nStep 1: ...\nStep 2: ...\n\nAnswer: (B)", 4, "B"),
    ("**Answer:** C", 4, "C"),
    ("**Answer: C**", 4, "C"),
    ("Answer: **D**", 4, "D"),
    ("Answer:\n\nB", 4, "B"),
    ("Final Answer: A", 4, "A"),
    ("**Final Answer**\n\nC", 4, "C"),
    ("Final answer: [D]", 4, "D"),
    ("Answer - B", 4, "B"),
    ("Answer: C.", 4, "C"),
    ("Answer: `B`", 4, "B"),
    ("Answer: Option C", 4, "C"),
    ("Answer: choice D", 4, "D"),
    # --- "the answer is", "the correct option is"
    ("The oil film has a higher index than water, so there is one phase flip. Constructive interference "
     "needs 2nt = m*lambda, giving lambda = 600 nm for m = 2.5... so the answer is C.", 4, "C"),
    ("Thus, the correct answer is B.", 4, "B"),
    ("The correct option is C because the enzyme is competitively inhibited.", 4, "C"),
    ("After weighing these, the best answer is (D).", 4, "D"),
    ("The most likely answer is A because it is the only one consistent with Mendel's second law.", 4, "A"),
    ("Therefore, the answer would be B.", 4, "B"),
    ("The answer must be D, since every other option violates conservation of charge.", 4, "D"),
    ("The answer is therefore C.", 4, "C"),
    ("So the correct choice here is A.", 4, "A"),
    ("The right answer: B", 4, "B"),
    ("the answer is c", 4, "C"),
    ("i think the answer is (b).", 4, "B"),
    ("My final answer is D.", 4, "D"),
    ("My answer: A", 4, "A"),
    # --- LaTeX
    ("The energy is $E = h\\nu$, so the wavelength is 500 nm.\n\n$\\boxed{A}$", 4, "A"),
    ("Thus the final answer is \\(\\boxed{C}\\).", 4, "C"),
    ("\\[\\boxed{\\text{B}}\\]", 4, "B"),
    ("The answer is $\\text{D}$.", 4, "D"),
    ("Final answer: \\boxed{\\textbf{(C)}}", 4, "C"),
    ("We get $\\Delta G < 0$. \\boxed{D}", 4, "D"),
    ("\\boxed{B) 550 nm}", 4, "B"),
    # --- letter followed by its option text
    ("Answer: C) 600 nm", 4, "C"),
    ("The answer is (B) an average of 10 times, with an rms deviation of about 3.", 4, "B"),
    ("Answer: D. 650 nm", 4, "D"),
    ("The answer is C: mitochondria.", 4, "C"),
    # --- letters mentioned, then rejected, then committed
    ("Let's go through the options.\nA) This is wrong because the deviation would be sqrt(10).\n"
     "B) This matches sqrt(9) = 3.\nC) Too small.\nD) Far too small.\n\nSo the answer is B.", 4, "B"),
    ("A is wrong because mitosis does not reduce ploidy. B is wrong because crossing over happens in "
     "prophase I. D is wrong too. So the answer is C.", 4, "C"),
    ("Option A is tempting, but it ignores the phase change at the oil-water boundary. Option B double "
     "counts it. Therefore the correct answer is D.", 4, "D"),
    ("At first I thought the answer is A, but the units do not work out. Rechecking, the answer is C.", 4, "C"),
    ("The answer is B.\n\nWait, let me double-check the sign of the enthalpy. It is exothermic, so the "
     "equilibrium shifts left on heating. That changes things: the answer is D.", 4, "D"),
    ("The answer is not A but C.", 4, "C"),
    ("Answer: C, and A is wrong because the field inside a conductor is zero.", 4, "C"),
    ("Answer: B. Note that A is incorrect since the charge is negative.", 4, "B"),
    ("Answer: A is wrong here, as is B. The answer is D.", 4, "D"),
    ("If the answer were A, the half-life would be 10 days, which contradicts the data. If the answer is B, "
     "the activity after 20 days would be a quarter, which matches. So B.", 4, "B"),
    ("Suppose the answer is C; then the momentum would not be conserved. Hence the answer is D.", 4, "D"),
    ("C is the correct answer, since only C accounts for the lone pair.", 4, "C"),
    ("Option D is the correct answer.", 4, "D"),
    ("(B) is the best answer among these.", 4, "B"),
    ("Both A and C look plausible at first, but only A survives the dimensional check. I'll go with A.", 4, "A"),
    ("I choose B.", 4, "B"),
    ("We eliminate A, B and D, which leaves C.\n\nTherefore, C.", 4, "C"),
    ("so the answer is (a).", 4, "A"),
    # --- a letter alone on the last line or the first line
    ("Reasoning: the allele frequency is sqrt(0.09) = 0.3, so heterozygotes are 2*0.3*0.7 = 0.42.\n\n**C**", 4, "C"),
    ("The carrier frequency works out to 0.42.\n(C)", 4, "C"),
    ("B\n\nThe rms deviation of a binomial count is sqrt(npq) = 3.", 4, "B"),
    ("D", 4, "D"),
    ("  (a)  ", 4, "A"),
    ("Working through the kinematics gives 12 m/s.\n\nD.", 4, "D"),
    # --- lower case and words that look like letters
    ("the answer is a polar molecule, which attracts water.", 4, None),
    ("The answer is a bit subtle, but it comes down to B.", 4, "B"),
    ("I think the answer is b because the ratio is 3:1.", 4, "B"),
    ("e.g. the answer is d.", 4, "D"),
    ("The answer is B-cells, which is option (C).", 4, "C"),
    # --- hedges: several letters, no commitment
    ("The answer is B or C.", 4, None),
    ("It could be A or D; both satisfy the constraint, and I cannot tell which the question intends.", 4, None),
    ("I'm torn between B and C. B fits the energy argument and C fits the momentum argument.", 4, None),
    ("The answer is either A or C.", 4, None),
    ("Answer: B, C", 4, None),
    ("Answer: A/B", 4, None),
    ("The correct answers are B and D.", 4, None),
    ("The answer is B or maybe D.", 4, None),
    ("A: incorrect.\nB: possibly correct.\nC: possibly correct.\nD: incorrect.\nI can't decide between B and C.",
     4, None),
    ("Option A says the rate doubles. Option B says it quadruples. Option C says it halves. Option D says "
     "it is unchanged. The rate law is second order in NO.", 4, None),
    # --- no commitment at all, or no letter
    ("The wavelength is 600 nm because of the phase shift.", 4, None),
    ("I am not able to determine the answer from the information given.", 4, None),
    ("", 4, None),
    ("To answer this, we first compute the reduced mass.", 4, None),
    # --- out of range
    ("The answer is E.", 4, None),
    ("Answer: F", 4, None),
    ("\\boxed{E}", 4, None),
    ("Answer: E", 5, "E"),
    # --- weak mentions when there is no stronger commitment
    ("Checking each: C is correct because the torque balances.", 4, "C"),
    ("It might be D, given the inverse-square dependence.", 4, "D"),
    ("I'm leaning towards B.", 4, "B"),
    ("B is correct for the first part and D is correct for the second part.", 4, None),
    # --- option listings and decorations that are not commitments
    ("Let's look at each answer choice:\nA) 500 nm: too short.\nB) 550 nm: close.\nC) 600 nm: matches 2nt.\n"
     "D) 650 nm: too long.", 4, None),
    ("Let's look at each answer choice:\nA) 500 nm: too short.\nB) 550 nm: close.\nC) 600 nm: matches 2nt.\n"
     "D) 650 nm: too long.\n\nAnswer: C", 4, "C"),
    ("The answer choices all involve the same enzyme, so consider the substrate instead. So D.", 4, "D"),
    ("None of the options is exactly 2.4 m, but the closest is C.", 4, "C"),
    ("The computed value, 3.1 eV, is nearest to option B.", 4, None),
    ("Answer: C (or possibly B)", 4, "C"),
    ("The answer is C. However, if the temperature were higher, the answer would be D.", 4, "C"),
    ("Both B and D are true statements, but the best answer is D.", 4, "D"),
    ("**Answer: C**\n\n**Explanation:** Therefore, A is not correct because the force is conservative.", 4, "C"),
    ("I would answer C.", 4, "C"),
    ("I'd say the answer is C.", 4, "C"),
    ("Answer: $LETTER\n\nThe frequency doubles, so the answer is B.", 4, "B"),
    ("The answer is 3 m/s, which corresponds to option B.", 4, "B"),
    # --- symbols that look like letters
    ("By Newton's second law the answer is F = ma applied to the block, so the answer is C.", 4, "C"),
    ("The answer is C = 3 uF.", 4, None),
    ("The answer is I_0/2, i.e. half the initial current.\n\nAnswer: B", 4, "B"),
    ("The genotype answer is Aa, which is option D.", 4, "D"),
    ("The final answer is B2H6.", 4, None),
    # --- casual commitments
    ("Everything points the same way, so I think that's C.", 4, "C"),
    ("After all that, it's B!", 4, "B"),
    ("It is a good idea to check units first. The result has units of energy.", 4, None),
    ("The answer is A. No wait, the units are wrong: it's B.", 4, "B"),
    ("Best guess: C", 4, "C"),
    ("The answer is likely C, given the trend in electronegativity.", 4, "C"),
    ("The answer is most likely (D).", 4, "D"),
    ("Answer: (A) and (C)", 4, None),
    ("It's a subtle question about entropy.", 4, None),
    ("Answer: I don't know.", 10, None),
    # --- ten-choice (MMLU-Pro style)
    ("Computing the present value gives $1,234, which is option H.\n\nAnswer: H", 10, "H"),
    ("The answer is (J).", 10, "J"),
    ("The answer is I.", 10, "I"),
    ("The answer is I think G.", 10, None),
    ("Answer: I", 4, None),
    ("Answer: G", 7, "G"),
    # --- conditional phrasing does not commit; the final commitment does
    ("If the answer is A, the graph would be linear. It is not linear.", 4, None),
    ("One might think the answer is A because of the symmetry, but the boundary condition breaks it. "
     "The answer is B.", 4, "B"),
    # --- long self-correcting reasoning ending in a commitment
    ("Let me reconsider the problem from the start.\n\nThe enzyme obeys Michaelis-Menten kinetics with "
     "Km = 2 mM. At [S] = 2 mM the rate is Vmax/2. Option A claims Vmax/4, which would need [S] = Km/3. "
     "Option B says Vmax/2 -- consistent. Option C says 2 Vmax, impossible since rate < Vmax. Option D says "
     "Vmax, only at saturation.\n\nHmm, but wait: is the inhibitor present? The question says no.\n\n"
     "So the rate is Vmax/2.\n\nAnswer: B", 4, "B"),
    ("**Step 1.** Identify the limiting reagent: 2 mol H2 needs 1 mol O2; we have 0.8 mol O2, so O2 limits.\n"
     "**Step 2.** Water formed = 1.6 mol = 28.8 g.\n\n**A**: 18 g -- no.\n**B**: 36 g -- this would be with "
     "excess O2.\n**C**: 28.8 g -- matches.\n**D**: 14.4 g -- half.\n\nThe final answer is **C**.", 4, "C"),
]


@pytest.mark.parametrize(("response", "n", "expected"), CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_golden(response: str, n: int, expected: str | None) -> None:
    got = extract_choice(response, n)
    assert got.letter == expected, got.how


def test_enough_golden_cases() -> None:
    assert len(CASES) >= 80


OPTIONS = ["I only", "II only", "I and III", "II and III"]
OPTION_CASES = [
    ("The answer is I and III.", "C"),
    ("Both statements I and III hold, so the answer is I and III.", "C"),
    ("Answer: II only", "B"),
    ("C. I and III", "C"),
    ("After checking each statement:\n\nC) I and III", "C"),
    ("The answer is C.", "C"),
]


@pytest.mark.parametrize(("response", "expected"), OPTION_CASES)
def test_option_text_counts_when_options_are_known(response: str, expected: str) -> None:
    assert extract_choice(response, 4, OPTIONS).letter == expected


def test_restated_option_list_is_not_an_answer() -> None:
    opts = ["500 nm", "550 nm", "600 nm", "650 nm"]
    listing = "The options are:\nA) 500 nm\nB) 550 nm\nC) 600 nm\nD) 650 nm"
    assert extract_choice(listing, 4, opts).letter is None
    assert extract_choice(listing + "\n\nAnswer: C", 4, opts).letter == "C"
    assert extract_choice("Working: 2nt = 600 nm for m = 1.\n\nC) 600 nm", 4, opts).letter == "C"


def test_letter_followed_by_its_option_text() -> None:
    opts = ["a neutron", "a proton", "an electron", "a photon"]
    assert extract_choice("The answer is A neutron", 4, opts).letter == "A"
    assert extract_choice("The answer is an electron.", 4, opts).letter == "C"


def test_direct_mode_reads_the_first_letter() -> None:
    assert extract_choice(" C", 4, direct=True).letter == "C"
    assert extract_choice(" B. 550 nm\n\nQuestion: next one\nAnswer: D", 4, direct=True).letter == "B"
    assert extract_choice(" The answer is D.", 4, direct=True).letter == "D"
    assert extract_choice(" A or B", 4, direct=True).letter is None
    assert extract_choice(" E", 4, direct=True).letter is None


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        extract_choice("Answer: A", 0)
    with pytest.raises(ValueError):
        extract_choice("Answer: A", 4, ["x", "y"])
