"""EL806 gelu-approximation."""

from __future__ import annotations

import re

import libcst as cst

from emberlint.rule import FixAvailability, Invalid
from emberlint.rules._coach import string_value
from emberlint.rules.porting._common import PortRule, porting_table
from emberlint.syntax import code, keyword_argument


class GeluApproximation(PortRule):
    """A tanh (or sigmoid) approximation of GELU in a port: MLX ``nn.gelu_approx`` / ``nn.gelu_fast_approx`` /
    ``nn.GELU(approx="precise"|"tanh"|"fast")``, or PyTorch ``F.gelu(x, approximate="tanh")`` /
    ``nn.GELU(approximate="tanh")``.

    Why it matters numerically: the erf GELU and its tanh approximation differ by up to 4.7e-4 absolute in MLX
    (measured, mlx 0.32.4, ``nn.gelu`` vs ``nn.gelu_approx`` on [-8, 8]); MLX's sigmoid ``fast`` form by up to
    2.0e-2. BERT-style models (M2-BERT's
    ``hidden_act="gelu"``) use the erf form: MLX ``nn.gelu`` / ``nn.GELU()`` and PyTorch ``F.gelu(x)``. A port that
    swaps forms adds an error 1000x float32 epsilon per MLP layer that parity tests then blame on the FFT.

    Not reported in a faithful port: a file that names the original's tanh/quick GELU (``gelu_pytorch_tanh``,
    ``gelu_new``, ``quick_gelu``), or the port of a model family whose reference uses it (Gemma, GPT-2, GPT-J,
    GPT-Neo, Phi, CodeGen, CLIP: ``porting.gelu.faithful_*`` in ``rules/coach.yaml``).

    Profile: strict only. Whether an approximation is the original's is not visible in the file in general; on
    real code (``benchmarks/real_code_precision.py``) the remaining findings are too often the original's own
    choice for the recommended profile's 0.8 precision bar.

    Fix: match the original: PyTorch ``F.gelu(x)`` (erf) -> MLX ``nn.gelu(x)``; PyTorch
    ``F.gelu(x, approximate="tanh")`` -> MLX ``nn.gelu_approx(x)``. Keep the approximation only when the original
    used it, and suppress this finding there with a reason.
    """

    CODE = "EL806"
    NAME = "gelu-approximation"
    MESSAGE = "{what} is the {form} approximation of GELU; {advice}"
    SEVERITY = None
    FIX = FixAvailability.NONE
    VALID = [
        """
        import mlx.nn as nn
        y = nn.gelu(x)
        act = nn.GELU()
        """,
        """
        import torch.nn.functional as F
        y = F.gelu(x)
        """,
        """
        import mlx.nn as nn
        act = nn.GELU(approx='none')
        """,
        """
        import mlx.nn as nn
        # hidden_act: gelu_pytorch_tanh
        def mlp(x):
            return nn.gelu_approx(x)
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            import mlx.nn as nn
            def mlp(x):
                return nn.gelu_approx(x)
                       ^^^^^^^^^^^^^^ EL806
            """,
        ),
        Invalid(
            """
            import mlx.nn as nn
            act = nn.GELU(approx='precise')
                  ^^^^^^^^^^^^^^^^^^^^^^^^^ EL806
            """,
        ),
        Invalid(
            """
            import torch.nn.functional as F
            def mlp(x):
                return F.gelu(x, approximate='tanh')
                       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL806
            """,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        facts = porting_table()["gelu"]
        qualified = self.context.qualified_name(node.func) or ""
        gelu = (qualified in facts["mlx_tanh"] or qualified in facts["mlx_fast"] or qualified == "mlx.nn.GELU"
                or qualified in facts["torch_calls"])
        if not gelu or self._faithful_port(facts):  # the file's port markers are looked for at its first GELU
            return
        erf_advice = ("`nn.gelu` / `nn.GELU()` is the exact erf form (PyTorch's default `F.gelu`); keep the "
                      "approximation only if the original model used it (BERT-style `hidden_act=\"gelu\"` is erf)")
        if qualified in facts["mlx_tanh"] or qualified in facts["mlx_fast"]:
            form = "tanh" if qualified in facts["mlx_tanh"] else "sigmoid (fast)"
            self.report(node.func, what=f"MLX `{code(node.func)}`", form=form, advice=erf_advice)
        elif qualified == "mlx.nn.GELU":
            approx = string_value(getattr(keyword_argument(node, "approx"), "value", None) or
                                  (node.args[0].value if node.args and node.args[0].keyword is None else None))
            form = facts["mlx_approx_values"].get(approx or "")
            if form:
                self.report(node, what=f"MLX `nn.GELU(approx=\"{approx}\")`", form=form, advice=erf_advice)
        elif qualified in facts["torch_calls"]:
            approx = string_value(getattr(keyword_argument(node, "approximate"), "value", None))
            if approx == "tanh":
                self.report(node, what=f"PyTorch `{code(node.func)}(approximate=\"tanh\")`", form="tanh",
                            advice="the MLX port must use `nn.gelu_approx` (MLX `nn.gelu` is the erf form), and "
                                   "the default `approximate=\"none\"` is what BERT checkpoints were trained with")


    def _faithful_port(self, facts: dict) -> bool:
        cached = getattr(self, "_faithful", None)
        if cached is None:
            cached = self._faithful = bool(
                re.search(facts["faithful_markers"], self.context.source)
                or re.search(facts["faithful_files"], self.context.path.replace("\\", "/"))
            )
        return cached
