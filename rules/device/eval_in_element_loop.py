"""EL704 eval-in-element-loop."""

from __future__ import annotations

import libcst as cst

from emberlint.rule import FixAvailability, Invalid, Rule
from emberlint.rules._coach import in_loop, table
from emberlint.rules.device._common import element_loop
from emberlint.syntax import code


class EvalInElementLoop(Rule):
    """``mx.eval`` / ``mx.async_eval`` inside a loop over array elements or an array dimension
    (``for i in range(x.shape[0])``, ``for row in x``).

    Why it matters numerically: MLX is lazy; ``mx.eval`` in a per-element loop forces one tiny graph per element,
    each a device dispatch and synchronisation, so the loop runs at Python speed (thousands of times slower than one
    vectorised op) and no kernel fusion can happen across iterations. Training loops (one ``mx.eval`` per batch) are
    the intended use and are not reported.

    Fix: build the whole computation lazily and call ``mx.eval`` once after the loop, or vectorise the loop away
    (``mx.vmap``, broadcasting).
    """

    CODE = "EL704"
    NAME = "eval-in-element-loop"
    MESSAGE = "`{call}` inside a loop over {what}: one graph evaluation per element; call it once after the loop"
    FIX = FixAvailability.NONE
    VALID = [
        """
        import mlx.core as mx
        for batch in loader:
            loss = step(batch)
            mx.eval(model.parameters())
        """,
        """
        import mlx.core as mx
        rows = [mx.exp(x[i]) for i in range(x.shape[0])]
        mx.eval(rows)
        """,
        """
        import mlx.core as mx
        def copy(w: mx.array, step: int):
            parts = []
            for i in range(0, w.shape[0], step):
                parts.append(mx.contiguous(w[i : i + step]))
                mx.eval(parts[-1])
            return parts
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            def filters(k):
                out = []
                for i in range(k.shape[0]):
                    out.append(mx.fft.rfft(k[i], norm="backward"))
                    mx.eval(out[-1])
                    ^^^^^^^^^^^^^^^^ EL704
                return out
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            def rows(x: mx.array):
                for row in x:
                    mx.eval(mx.exp(row))
                    ^^^^^^^^^^^^^^^^^^^^ EL704
            """,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.context.qualified_name(node.func)
        if qualified not in table()["device"]["eval_calls"]:
            return
        loop = in_loop(self.context)
        if not isinstance(loop, cst.For):
            return
        what = element_loop(self.context, loop)
        if what is not None:
            self.report(node, call=code(node.func), what=what)
