"""Graders: extract an answer from each sample, canonicalize it, give a verdict, group equivalents."""
