"""maj@k from n >= k samples lives in `harness.vote` (it is not specific to math); kept here for imports."""

from harness.vote import maj_at_k

__all__ = ["maj_at_k"]
