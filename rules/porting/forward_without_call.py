"""EL802 forward-without-call."""

from __future__ import annotations

import libcst as cst

from emberlint.rule import FixAvailability, Invalid, RawFix
from emberlint.rules.porting._common import PortRule


class ForwardWithoutCall(PortRule):
    """A subclass of ``mlx.nn.Module`` that defines ``forward`` but no ``__call__``.

    Why it matters numerically: MLX modules are called through ``__call__``; ``nn.Module`` has no ``forward``
    dispatch, so ``layer(x)`` raises (or, when a parent class defines ``__call__``, runs the *parent's* computation
    and ignores the ported ``forward``: a residual block that silently skips its mixer still gives finite,
    plausible numbers).

    Fix: rename ``forward`` to ``__call__`` (the fix does it; unsafe, because explicit ``.forward(...)`` callers must
    change too).
    """

    CODE = "EL802"
    NAME = "forward-without-call"
    MESSAGE = "`{cls}` subclasses mlx.nn.Module and defines `forward` but no `__call__`; MLX calls `__call__`"
    FIX = FixAvailability.UNSAFE
    VALID = [
        """
        import mlx.nn as nn
        class M(nn.Module):
            def __call__(self, x):
                return x
        """,
        """
        import torch.nn as nn
        class M(nn.Module):
            def forward(self, x):
                return x
        """,
        """
        import mlx.nn as nn
        class M(nn.Module):
            def forward(self, x):
                return x
            def __call__(self, x):
                return self.forward(x)
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.nn as nn
            class HyenaFilter(nn.Module):
                def forward(self, x, L):
                    ^^^^^^^ EL802
                    return x
            """,
            fixed="""
            import mlx.nn as nn
            class HyenaFilter(nn.Module):
                def __call__(self, x, L):
                    return x
            """,
            unsafe=True,
        ),
    ]

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if not any(self.context.qualified_name(base.value) == "mlx.nn.Module" for base in node.bases):
            return
        methods = {
            stmt.name.value: stmt for stmt in node.body.body if isinstance(stmt, cst.FunctionDef)
        }
        if "forward" in methods and "__call__" not in methods:
            forward = methods["forward"]
            fix = RawFix(safe=False, replacements=[(forward.name, cst.Name("__call__"))],
                         description="Rename forward to __call__")
            self.report(forward.name, cls=node.name.value, fix=fix)
