"""Where things are, for tests in any sub-folder: the checkout and this folder of support modules."""

from pathlib import Path

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
