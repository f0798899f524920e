"""Analyses that read the store and write their own tables: paired statistics, compare, teach, nightly, sft."""
