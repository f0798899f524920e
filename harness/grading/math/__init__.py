"""Math grading: answer extraction, a bounded LaTeX/plain-math parser, sympy equivalence in a killable
worker pool, and semantic vote classes. The entry point is `MathGrader` (the Grader protocol)."""

from harness.grading.math.extract import Extraction, extract_answer, gold_answer, last_boxed
from harness.grading.math.grader import MathGrader, MathOptions, Parsed

__all__ = ["Extraction", "MathGrader", "MathOptions", "Parsed", "extract_answer", "gold_answer", "last_boxed"]
