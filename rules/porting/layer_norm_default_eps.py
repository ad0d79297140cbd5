"""EL809 layer-norm-default-eps."""

from __future__ import annotations

import libcst as cst

from emberlint.model import Severity
from emberlint.rule import FixAvailability, Invalid
from emberlint.rules._coach import string_value
from emberlint.rules.porting._common import PortRule, porting_table
from emberlint.syntax import code, keyword_argument
from emberlint.walk import nodes_of


class LayerNormDefaultEps(PortRule):
    """``nn.LayerNorm(dims)`` (MLX or PyTorch) or ``F.layer_norm(x, shape, w, b)`` without ``eps`` in a file where
    the model's config has a ``layer_norm_eps`` field in sight: the file reads ``config.layer_norm_eps``, passes or
    defines ``layer_norm_eps`` (a dataclass field, a keyword, a ``"layer_norm_eps"`` key). Files that never mention
    ``layer_norm_eps`` are not reported: there the default may well be the model's.

    Why it matters numerically: both frameworks default to ``eps=1e-5``; BERT configs (M2-BERT included) use
    ``layer_norm_eps=1e-12``. The eps is added to the variance before the square root, so for a hidden state with
    variance ``v`` the output is scaled by ``sqrt(v / (v + 1e-5))``: a relative error of ``5e-6 / v`` in every
    LayerNorm of every layer (measured with MLX on 768-wide rows: 5.7e-6, about 47 float32 ulp, at ``v = 1``; 5.5e-4,
    2.1e-3 absolute, at ``v = 0.01``). Parity tests then fail by a small, input-dependent amount that looks like FFT or GELU rounding. The
    M2-BERT original is not uniform either: its MLM head hard-codes 1e-12 and its training-additions LayerNorm keeps
    the 1e-5 default, so each LayerNorm needs its eps written where it is built.

    Fix: pass ``eps=config.layer_norm_eps`` (or the literal the original uses, ``eps=1e-5`` included, to make a
    deliberate default visible).
    """

    CODE = "EL809"
    NAME = "layer-norm-default-eps"
    MESSAGE = ("`{call}` without `eps` uses the default {default}, but this model's config has `layer_norm_eps` "
               "(BERT: 1e-12); pass `eps={suggestion}` (or the original's literal eps)")
    SEVERITY = Severity.WARNING
    FIX = FixAvailability.NONE
    WHOLE_FILE = True  # the config's eps may be mentioned anywhere in the file
    VALID = [
        """
        import mlx.nn as nn
        class BertEmbeddings(nn.Module):
            def __init__(self, config):
                super().__init__()
                self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        """,
        # The deliberate default, written out (the original's sequence mixer uses torch's 1e-5).
        """
        import mlx.nn as nn
        class Mixer(nn.Module):
            def __init__(self, config):
                super().__init__()
                self.norm = nn.LayerNorm(config.hidden_size, 1e-5)
                self.eps = config.layer_norm_eps
        """,
        # No layer_norm_eps in sight: the default may be the model's.
        """
        import torch.nn as nn
        class Block(nn.Module):
            def __init__(self, d):
                super().__init__()
                self.norm = nn.LayerNorm(d)
        """,
    ]
    INVALID = [
        # The M2-BERT port's GLU MLP, first draft: the config is in the same file.
        Invalid(
            """
            from dataclasses import dataclass

            import mlx.nn as nn


            @dataclass
            class BertConfig:
                hidden_size: int = 768
                layer_norm_eps: float = 1e-12


            class BertGLUMLP(nn.Module):
                def __init__(self, config: BertConfig):
                    super().__init__()
                    self.layernorm = nn.LayerNorm(config.hidden_size)
                                     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL809
            """,
        ),
        Invalid(
            """
            import torch
            import torch.nn.functional as F
            class Embeddings(torch.nn.Module):
                def __init__(self, config):
                    super().__init__()
                    self.eps = config.layer_norm_eps
                    self.LayerNorm = torch.nn.LayerNorm(config.hidden_size)
                                     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL809
                def forward(self, x):
                    return F.layer_norm(x, x.shape[-1:], None, None)
                           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL809
            """,
        ),
    ]

    def __init__(self, context) -> None:
        super().__init__(context)
        field = porting_table()["layer_norm_eps_field"]
        self._field = field if field in context.source else None  # most files never mention it: nothing to do
        self._attribute: str | None = None  # the first ``<expr>.layer_norm_eps``, as the file spells it
        self._pending: list[cst.Call] = []

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if self._field and self._attribute is None and node.attr.value == self._field:
            self._attribute = code(node)

    def _mentioned(self) -> bool:
        """A name or a string key ``layer_norm_eps`` anywhere in the file."""
        return any(
            (node.value if isinstance(node, cst.Name) else string_value(node)) == self._field
            for node in nodes_of(self.context.module, "Name", "SimpleString")
        )

    def visit_Call(self, node: cst.Call) -> None:
        if not self._field:
            return
        positions = porting_table()["layer_norm_eps_position"]
        qualified = self.context.qualified_name(node.func)
        if qualified not in positions or keyword_argument(node, "eps") is not None or any(a.star for a in node.args):
            return
        if len([a for a in node.args if a.keyword is None]) > positions[qualified]:
            return  # eps passed positionally
        self._pending.append(node)

    def leave_Module(self, original_node: cst.Module) -> None:
        """Report once the whole file was seen: the config's eps may be mentioned after the LayerNorm."""
        if not self._pending:
            return
        suggestion = self._attribute or (f"config.{self._field}" if self._mentioned() else None)
        if suggestion is None:
            return
        for node in self._pending:
            self.report(node, call=code(node.func), suggestion=suggestion,
                        default=porting_table()["layer_norm_default_eps"])
