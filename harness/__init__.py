"""harness: k samples per item, semantic majority vote, paired comparison, teachable items."""

__version__ = "0.1.0"
