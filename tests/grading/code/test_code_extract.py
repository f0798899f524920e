"""Golden cases for program extraction (continuations and chat answers) and for example calls."""

from __future__ import annotations

import pytest

from harness.grading.code.extract import example_calls, extract_program, fenced_blocks

PROMPT = 'from typing import List\n\n\ndef add(xs: List[int]) -> int:\n    """Sum.\n    >>> add([1, 2])\n    3\n    """\n'
MBPP_PROMPT = '"""\nWrite a function to add the numbers of a list.\nassert add([1, 2]) == 3\n"""\n'

# (name, response, prompt style, expected kind, must contain, must not contain)
GOLDEN = [
    ("body continuation", "    return sum(xs)\n", "he", "continuation", ["def add", "return sum(xs)"], []),
    ("continuation then tests", "    return sum(xs)\n\n\nprint(add([1]))\nassert add([1]) == 1\n", "he",
     "continuation", ["return sum(xs)"], ["print(", "assert add"]),
    ("continuation with helper after", "    return helper(xs)\n\n\ndef helper(xs):\n    return sum(xs)\n", "he",
     "continuation", ["def helper"], []),
    ("continuation cut by token limit", "    total = 0\n    for x in xs:\n        total += x\n    return total\n\n\ndef other(a, b):\n    return (a +",
     "he", "continuation", ["return total"], ["def other"]),
    ("continuation then comment and main", "    return sum(xs)\n\n# Test\nif __name__ == '__main__':\n    add([1])\n", "he",
     "continuation", ["return sum(xs)"], ["__main__", "# Test"]),
    ("continuation then new prompt", "    return sum(xs)\n\n\ndef mul(xs: List[int]) -> int:\n    \"\"\"Product.\n", "he",
     "continuation", ["return sum(xs)"], ["def mul"]),
    ("fenced answer with prose", "Here it is:\n```python\ndef add(xs):\n    return sum(xs)\n```\nThis works.", "he",
     "fenced", ["from typing import List", "return sum(xs)"], ["This works"]),
    ("fenced with imports and helper", "```python\nimport math\n\ndef _h(x):\n    return math.floor(x)\n\ndef add(xs):\n    return sum(_h(x) for x in xs)\n```",
     "he", "fenced", ["import math", "def _h", "sum(_h(x)"], []),
    ("several blocks", "First a helper:\n```python\ndef _h(x):\n    return x\n```\nThen:\n```python\ndef add(xs):\n    return sum(map(_h, xs))\n```\nUsage:\n```python\nprint(add([1, 2]))\n```",
     "he", "fenced", ["def _h", "sum(map(_h, xs))"], ["print(add"]),
    ("fenced with usage at top level", "```python\ndef add(xs):\n    return sum(xs)\n\nif __name__ == '__main__':\n    print(add([1]))\nresult = add([3])\nprint(result)\nassert add([]) == 0\nfor x in range(3):\n    print(x)\n```",
     "he", "fenced", ["return sum(xs)"], ["__main__", "result =", "print(", "assert add"]),
    ("unterminated fence", "```python\ndef add(xs):\n    return sum(xs)\n", "he", "fenced", ["return sum(xs)"], []),
    ("py tag", "```py\ndef add(xs):\n    return sum(xs)\n```", "he", "fenced", ["return sum(xs)"], []),
    ("untagged fence", "```\ndef add(xs):\n    return sum(xs)\n```", "he", "fenced", ["return sum(xs)"], []),
    ("other language ignored", "```bash\npip install nothing\n```\n```python\ndef add(xs):\n    return sum(xs)\n```",
     "he", "fenced", ["return sum(xs)"], ["pip install"]),
    ("indented fence in a list", "1. Code:\n   ```python\n   def add(xs):\n       return sum(xs)\n   ```", "he",
     "fenced", ["def add(xs):\n    return sum(xs)"], []),
    ("fenced body only", "```python\n    return sum(xs)\n```", "he", "fenced", ["def add", "return sum(xs)"], []),
    ("fenced body written flush", "```python\ntotal = 0\nfor x in xs:\n    total += x\nreturn total\n```", "he", "fenced",
     ["def add", "    for x in xs:\n        total += x\n    return total"], []),
    ("decorated function kept whole", "```python\nimport functools\n\n@functools.lru_cache(maxsize=None)\ndef _fib(n):\n    return n if n < 2 else _fib(n - 1) + _fib(n - 2)\n\ndef add(xs):\n    return sum(xs)\n```",
     "he", "fenced", ["@functools.lru_cache(maxsize=None)\ndef _fib"], []),
    ("constants kept", "```python\nOFFSET = 0\n\ndef add(xs):\n    return sum(xs) + OFFSET\n```", "he", "fenced", ["OFFSET = 0"], []),
    ("redefinition: last wins", "```python\ndef add(xs):\n    return 0\n```\nOops, fixed:\n```python\ndef add(xs):\n    return sum(xs)\n```",
     "he", "fenced", ["return 0", "return sum(xs)"], []),
    ("unfenced code inside prose", "Here is the function:\ndef add(xs):\n    return sum(xs)\n\nIt adds the numbers up, one by one.\nHope this helps!",
     "he", "full", ["def add(xs):\n    return sum(xs)"], ["Hope", "Here is"]),
    ("full function without fences", "def add(xs):\n    return sum(xs)\n", "he", "full", ["from typing import List", "return sum(xs)"], []),
    ("mbpp continuation", "def add(xs):\n    return sum(xs)\n\n\n\"\"\"\nWrite a function to multiply.\n", "mbpp",
     "continuation", ["def add(xs)"], ["multiply"]),
    ("mbpp continuation then asserts", "import math\ndef add(xs):\n    return sum(xs)\nassert add([1, 2]) == 3\nprint('ok')\n", "mbpp",
     "full", ["import math", "def add(xs)"], ["print('ok')"]),
    ("mbpp fenced chat answer", "```python\ndef add(xs):\n    return sum(xs)\n```", "mbpp", "fenced", ["def add"], ["from typing"]),
]

UNPARSEABLE = [
    ("empty", "", "empty response"),
    ("blank", "  \n\n ", "empty response"),
    ("prose only", "I cannot help with that.", "does not parse"),
    ("syntax error in the defining block", "```python\ndef add(xs)\n    return sum(xs)\n```", "syntax error"),
    ("no block defines the function", "```python\ndef total(xs):\n    return sum(xs)\n```", "no code block defines"),
    ("continuation that never parses", "    return sum(xs\n    )))\n", "does not parse"),
]


def _extract(response: str, style: str):
    if style == "he":
        return extract_program(response, prompt_code=PROMPT, entry_point="add", preamble=PROMPT)
    return extract_program(response, prompt_code=MBPP_PROMPT, entry_point="add", preamble="")


@pytest.mark.parametrize("name,response,style,kind,contains,excludes", GOLDEN, ids=[g[0] for g in GOLDEN])
def test_extraction_golden(name, response, style, kind, contains, excludes):
    ex = _extract(response, style)
    assert ex.kind == kind, ex
    assert ex.program is not None
    compile(ex.program, "<program>", "exec")
    for text in contains:
        assert text in ex.program, (text, ex.program)
    for text in excludes:
        assert text not in ex.program, (text, ex.program)


@pytest.mark.parametrize("name,response,reason", UNPARSEABLE, ids=[u[0] for u in UNPARSEABLE])
def test_unparseable_golden(name, response, reason):
    ex = _extract(response, "he")
    assert ex.program is None and ex.kind == "none"
    assert reason in ex.reason


def test_fenced_blocks_order_and_languages():
    text = "```python\na = 1\n```\n```js\nb = 2\n```\n```\nc = 3\n```\n```python3\nd = 4"
    assert fenced_blocks(text) == ["a = 1\n", "c = 3\n", "d = 4"]


CALLS = [
    (">>> add([1, 2])\n3\n>>> add([])\n0", "add", ("add([1, 2])", "add([])")),
    ("add([1,2]) ➞ 3\nadd([1,2]) ➞ 3", "add", ("add([1, 2])",)),
    ("add(x) == 3 for x = [1, 2]", "add", ()),
    ("add('(a)') == 'x'", "add", ("add('(a)')",)),
    ("def add(xs):\n    '''>>> add([4])'''", "add", ("add([4])",)),
    ("is_add('a')  obj.add(1)", "add", ()),
    ("assert set(similar_elements((3, 4, 5, 6),(5, 7, 4, 10))) == set((4, 5))", "similar_elements",
     ("similar_elements((3, 4, 5, 6), (5, 7, 4, 10))",)),
    ("assert math.isclose(area(2.0, k=1), 3.14, rel_tol=0.001)", "area", ("area(2.0, k=1)",)),
    ("add([1, 2", "add", ()),
    ("add(lambda: 1)", "add", ()),
]


@pytest.mark.parametrize("text,entry,expected", CALLS)
def test_example_calls(text, entry, expected):
    assert example_calls(text, entry) == expected


def test_example_calls_are_capped():
    text = "\n".join(f">>> add([{i}])" for i in range(30))
    assert len(example_calls(text, "add")) == 10
