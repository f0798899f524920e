"""Multiple choice: committed-letter extraction, grading in the original choice space, position bias."""
