"""Fixed code reads like code a person wrote (issues 12 and 17): continuation lines keep their columns, a
multi-line operation keeps its line breaks at argument boundaries, parentheses a call does not need go, ``dtype=``
follows a multi-line call's layout. Before/after texts, and the same text on the light tree and LibCST's."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from emberlint.config import Config
from emberlint.engine import lint_source
from emberlint.fixing import fix_text
from tests.libcst_oracle import use_libcst_oracle

STRICT = Config(profile="strict")
EL301 = Config(profile="strict", select=("EL301",))
EL401 = Config(profile="strict", select=("EL401",))


def fixed(source: str, config: Config) -> str:
    # The operands in these cases are mostly annotated parameters: assumed arrays, so EL301's fixes are unsafe
    # (issue 12). The layout of a rewrite is the same whether it is safe or not, and layout is what is tested here.
    unsafe = config is EL301
    source = textwrap.dedent(source)
    outcome = fix_text(source, "case.py", config, unsafe=unsafe)
    cst.parse_module(outcome.text)
    again = fix_text(outcome.text, "case.py", config, unsafe=unsafe).text
    assert again == outcome.text, "fixing twice changed the text"
    return outcome.text


def dedent(text: str) -> str:
    return textwrap.dedent(text)


# --- continuation lines keep their indentation --------------------------------------------------------------

def test_continuation_lines_inside_a_method_keep_their_columns():
    """A call spanning lines, nested two blocks deep, as one operand: its lines did move to column 4."""
    before = '''
        import mlx.core as mx

        class Attention:
            def scores(self, q: mx.array, mask: mx.array):
                if mask is not None:
                    s = q + mx.where(
                        mask, mx.array(0.0, q.dtype), mx.array(-1e9, q.dtype)
                    )
                return s
        '''
    after = '''
        import mlx.core as mx

        class Attention:
            def scores(self, q: mx.array, mask: mx.array):
                if mask is not None:
                    s = mx.add(
                        q,
                        mx.where(
                            mask, mx.array(0.0, q.dtype), mx.array(-1e9, q.dtype)
                        ),
                    )
                return s
        '''
    assert fixed(before, EL301) == dedent(after)


def test_a_comment_at_the_operator_keeps_the_line_break_and_the_column():
    before = '''
        import mlx.core as mx

        def f(a: mx.array, b: mx.array):
            if a is not None:
                return (a *  # elementwise
                        b)
        '''
    after = '''
        import mlx.core as mx

        def f(a: mx.array, b: mx.array):
            if a is not None:
                return mx.multiply(a,  # elementwise
                        b)
        '''
    assert fixed(before, EL301) == dedent(after)


# --- line breaks at argument boundaries ---------------------------------------------------------------------

def test_multi_line_operations_become_one_argument_per_line():
    """The block-sparse mask of a real attention layer, in this test's own words."""
    before = '''
        import mlx.core as mx

        def mask(n: int, heads: int, stride: int, blocks: int):
            q = mx.arange(n, dtype=mx.int32)[:, None]
            k = mx.arange(n, dtype=mx.int32)[None]
            strided = (
                mx.arange(n, dtype=mx.int32)[None, :] + mx.arange(1, heads + 1, dtype=mx.int32)[:, None]
            ) % stride
            keep = (q >= k) & (
                (q - k < blocks) | strided
            )
            return keep
        '''
    after = '''
        import mlx.core as mx

        def mask(n: int, heads: int, stride: int, blocks: int):
            q = mx.arange(n, dtype=mx.int32)[:, None]
            k = mx.arange(n, dtype=mx.int32)[None]
            strided = mx.remainder(
                mx.add(mx.arange(n, dtype=mx.int32)[None, :], mx.arange(1, heads + 1, dtype=mx.int32)[:, None]),
                stride,
            )
            keep = mx.bitwise_and(
                q >= k,
                mx.bitwise_or(mx.subtract(q, k) < blocks, strided),
            )
            return keep
        '''
    assert fixed(before, EL301) == dedent(after)


def test_a_sum_written_over_lines_keeps_one_term_per_line():
    before = '''
        import mlx.core as mx

        def energy(x: mx.array, y: mx.array, z: mx.array):
            e = (
                x * x
                + y * y
                - z
            )
            return e
        '''
    after = '''
        import mlx.core as mx

        def energy(x: mx.array, y: mx.array, z: mx.array):
            e = mx.subtract(
                mx.add(
                    mx.multiply(x, x),
                    mx.multiply(y, y),
                ),
                z,
            )
            return e
        '''
    assert fixed(before, EL301) == dedent(after)


def test_one_line_operations_stay_on_one_line():
    before = "import mlx.core as mx\n\ndef f(a: mx.array, b: mx.array):\n    return (a * b + a) / b\n"
    assert fixed(before, EL301).endswith("    return mx.divide(mx.add(mx.multiply(a, b), a), b)\n")


def test_multi_line_string_operand_is_not_reindented():
    """Continuation lines move right with their argument, but never inside a string."""
    before = '''
        import mlx.core as mx

        def f(a: mx.array):
            y = a + mx.array(len("""first
        second"""), dtype=mx.float32)
            return y
        '''
    text = fixed(before, EL301)
    assert 'len("""first\nsecond""")' in text
    assert "y = mx.add(\n        a,\n" in text


# --- redundant parentheses ----------------------------------------------------------------------------------

@pytest.mark.parametrize("before,after", [
    ("y = 0.5 - (t - 0.5).abs()", "y = mx.subtract(0.5, mx.subtract(t, 0.5).abs())"),
    ("y = (t * t).sum()", "y = mx.multiply(t, t).sum()"),
    ("y = ((t * t))", "y = mx.multiply(t, t)"),
    ("y = -(t * t)", "y = mx.negative(mx.multiply(t, t))"),
    ("y = t if t is None else(t * t)", "y = t if t is None else mx.multiply(t, t)"),
    ("y = (t * t  # squared\n    )", "y = (mx.multiply(t, t)  # squared\n    )"),
    ("y = (\n        t * t\n    )", "y = (\n        mx.multiply(t, t)\n    )"),
])
def test_parentheses_a_call_does_not_need_go(before: str, after: str):
    head = "import mlx.core as mx\n\ndef f(t: mx.array):\n    "
    assert fixed(head + before + "\n    return y\n", EL301) == head + after + "\n    return y\n"


# --- EL401: dtype= in multi-line calls (issue 17, item 4) ---------------------------------------------------

@pytest.mark.parametrize("before,after", [
    ("    w = mx.zeros(\n        (3, 4)\n    )\n", "    w = mx.zeros(\n        (3, 4),\n        dtype=mx.float32\n    )\n"),
    ("    w = mx.zeros(\n        (3, 4),\n    )\n", "    w = mx.zeros(\n        (3, 4),\n        dtype=mx.float32,\n    )\n"),
    ("    w = mx.full(\n        (3, 4),\n        0.5\n    )\n",
     "    w = mx.full(\n        (3, 4),\n        0.5,\n        dtype=mx.float32\n    )\n"),
    ("    w = mx.full(\n        (3, 4), 0.5\n    )\n", "    w = mx.full(\n        (3, 4), 0.5, dtype=mx.float32\n    )\n"),
    ("    w = mx.zeros((3,\n                  4))\n", "    w = mx.zeros((3,\n                  4), dtype=mx.float32)\n"),
    ("    w = mx.zeros(\n        (3, 4)  # shape\n    )\n",
     "    w = mx.zeros(\n        (3, 4),  # shape\n        dtype=mx.float32\n    )\n"),
    ("    w = mx.zeros(\n        (3, 4),  # shape\n    )\n",
     "    w = mx.zeros(\n        (3, 4),  # shape\n        dtype=mx.float32,\n    )\n"),
])
def test_dtype_keyword_follows_a_multi_line_calls_layout(before: str, after: str):
    head = "import mlx.core as mx\n\nclass Layer:\n  def __init__(self):\n"
    indented = "".join("  " + line + "\n" for line in before.splitlines())
    expected = "".join("  " + line + "\n" for line in after.splitlines())
    text = fixed(head + indented, EL401)
    assert text == head + expected
    assert not any(line != line.rstrip() for line in text.splitlines()), "trailing whitespace"


# --- the same fixes on LibCST's own tree --------------------------------------------------------------------

LAYOUT_SOURCES = [
    "import mlx.core as mx\n\ndef f(t: mx.array):\n    if t:\n        y = (t *\n             t) + mx.where(\n"
    "            t, t, t\n        )\n        z = (t - 0.5).abs() - (\n            t  # c\n        )\n"
    "        w = mx.zeros(\n            (3, 4),\n        )\n    return y, z, w\n",
    "import mlx.core as mx\n\ndef f(t: mx.array):\n    return ((t\n             + t) * t), mx.ones(\n        (2,)\n    )\n",
]


@pytest.mark.parametrize("source", LAYOUT_SOURCES)
def test_light_tree_and_libcst_lay_fixes_out_alike(source: str, monkeypatch):
    light = fix_text(source, "case.py", STRICT).text
    use_libcst_oracle(monkeypatch)
    assert fix_text(source, "case.py", STRICT).text == light


# --- EL202 on a commented tuple (issue 17, item 5) ----------------------------------------------------------

def test_tuple_with_a_comment_before_its_first_element_and_a_starred_argument():
    """A returned tuple whose opening parenthesis is followed by a comment line, with a starred shape in a
    constructor call: telling whose parenthesis it is asked LibCST, which asked for the tuple's bounds again."""
    source = dedent('''
        import torch

        def backward(grad_x, grad_y):
            return (
                # deliberately too large
                torch.zeros(2, 3, *grad_x.shape, dtype=grad_x.dtype),
                torch.ones(grad_y.shape, dtype=grad_y.dtype) * 2.0,
            )
        ''')
    result = lint_source(source, "db.py", STRICT)
    assert result.errors == []
    assert [(f.code, f.start.line, f.start.column) for f in result.findings] == [
        ("EL301", 8, 9), ("EL201", 8, 56)
    ]


def test_fft_norm_keyword_follows_a_multi_line_calls_layout():
    """EL601 adds ``norm="backward"`` with the same layout rules as ``dtype=``."""
    before = '''
        import mlx.core as mx

        def spectrum(x: mx.array):
            a = mx.fft.rfft(
                x
            )
            b = mx.fft.rfft(
                x,
                n=8,
            )
            return a, b
        '''
    after = '''
        import mlx.core as mx

        def spectrum(x: mx.array):
            a = mx.fft.rfft(
                x,
                norm="backward"
            )
            b = mx.fft.rfft(
                x,
                n=8,
                norm="backward",
            )
            return a, b
        '''
    assert fixed(before, Config(profile="strict", select=("EL601",))) == dedent(after)


# --- generated multi-line expressions -----------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_ATOMS = st.sampled_from(["a", "b", "c", "a.T", "f(a)", "mx.exp(b)", "0.5", "2"])
_OPERATORS = st.sampled_from([" + ", " - ", " * ", " / ", " @ "])


@st.composite
def _expression(draw, depth: int = 0):
    if depth > 3 or draw(st.booleans()) and depth:
        return draw(_ATOMS)
    left, right = draw(_expression(depth + 1)), draw(_expression(depth + 1))
    operator = draw(_OPERATORS)
    if draw(st.booleans()):  # break the line at the operator
        operator = draw(st.sampled_from(["\n" + " " * draw(st.integers(0, 12)), ""])) + operator.strip() + " "
        operator = " " + operator if not operator.startswith("\n") else operator
    text = f"{left}{operator}{right}"
    if draw(st.booleans()):
        inner = draw(st.sampled_from(["", "\n" + " " * draw(st.integers(0, 12))]))
        text = f"({inner}{text}{inner})"
    return text


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(_expression(), st.sampled_from(["", "    ", "        "]))
def test_generated_multi_line_operations_fix_to_code_that_parses_and_settles(expression, indent):
    body = f"y = ({expression})\n"
    source = ("import mlx.core as mx\n\ndef f(a: mx.array, b: mx.array, c: mx.array):\n" +
              ("    if a is not None:\n" if indent else "") +
              "".join(("    " + indent[:4] if indent else "    ") + line + "\n" for line in body.splitlines()) +
              "    return a\n")
    try:
        compile(source, "case.py", "exec")
    except SyntaxError:
        return
    outcome = fix_text(source, "case.py", EL301)
    compile(outcome.text, "case.py", "exec")
    assert fix_text(outcome.text, "case.py", EL301).text == outcome.text
    assert not any(line != line.rstrip() for line in outcome.text.splitlines())
    import _pytest.monkeypatch

    patch = _pytest.monkeypatch.MonkeyPatch()
    try:
        use_libcst_oracle(patch)
        assert fix_text(source, "case.py", EL301).text == outcome.text
    finally:
        patch.undo()
