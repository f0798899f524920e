"""Code: program extraction, calibrated time limits, sandboxed execution and the behavioural vote."""
