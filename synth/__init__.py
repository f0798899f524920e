"""Synthesize verifiable items.

- `synth.variants`: numeric variants of GSM8K-style items, recomputed through the computation graph
  read from the solution's calculator annotations (`<<48/2=24>>`); no model needed.
- `synth.numeric_form`: multiple-choice items whose answer is a number -> free-response numeric items.
- `synth.rewrite`: hard prompts -> a question with one numeric answer, written by a model and kept
  only when the answer parses and a majority of independent solves agree with it.

Nothing here hands text to `eval`, `exec`, `sympify` or `parse_expr`: arithmetic in annotations is
parsed by `synth.expr` (a small recursive-descent parser) and evaluated with exact fractions; model
answers go through the math grader's bounded parser.
"""
