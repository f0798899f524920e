"""Analyses that read the store and write their own tables: a model's latest results, paired statistics,
compare, teach, nightly."""
