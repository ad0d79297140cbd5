"""What several rules of the ``python_scalars`` family share. Not a rule module (the leading underscore keeps
the registry out): rule modules import from here, never from each other."""

from __future__ import annotations

import libcst as cst

from emberlint.context import ASSUMED_NOTE
from emberlint.dtypes import is_int
from emberlint.host_math import contains_host_math
from emberlint.scalar_facts import number_family, scalar_replacement
from emberlint.rule import RawFix, Rule
from emberlint.rules._shared import mlx_or_torch_array

WEAK_TYPING_NOTES = """
    MLX and PyTorch treat a Python number as *weakly typed*: ``x * 0.5`` keeps ``x.dtype`` when ``x`` is floating.
    That does not make the number harmless:

    * the constant is rounded to the array's dtype when the operation runs: ``0.044715`` is 0.044677734375 in
      bfloat16 and ``1e-8`` is 0 in float16 -- but a typed scalar ``mx.array(1e-8, dtype=x.dtype)`` is rounded
      the same way, so the fix states the dtype without changing the value (a literal that the dtype cannot hold
      is EL412's finding, in the recommended profile);
    * the number's *kind* still promotes: ``int32_array * 0.5`` is float32 in MLX and PyTorch, and
      ``bool_mask + 1`` is int32, so integer code turns into float code without a visible cast;
    * a Python scalar and an *untyped* 0-d array are not the same thing: ``x_f16 * mx.array(0.5)`` is float32
      (``mx.array(0.5)`` is a strong float32), and in PyTorch a 0-dim tensor only stays weak against dimensioned
      tensors: ``loss * torch.tensor(0.5, dtype=torch.float64)`` is float64 when ``loss`` is itself 0-dim, where
      ``loss * 0.5`` stays float32. Hence the dtype must be spelled out (``dtype=x.dtype``);
    * code ported to NumPy or JAX (where Python floats are float64 or follow other rules) changes precision.

    A typed scalar, ``mx.array(0.5, dtype=x.dtype)`` / ``torch.tensor(0.5, dtype=x.dtype, device=x.device)``,
    states the dtype the constant is rounded to. The fix is safe when the array operand is a name proven by
    dataflow to be an array whose dtype family is known locally to be floating (or integer with an integer number),
    and the number is proven a Python number: then the typed scalar reproduces the weakly typed result exactly.
    Otherwise (integer or bool operands, operands whose dtype is unknown, types only assumed from a parameter or an
    annotation, or operands that are not plain names, which get the configured default dtype) it is unsafe.
"""


class PythonScalarRule(Rule):
    """Shared helpers: is an expression a Python number, which backend does an array belong to, the fix."""

    def scalar(self, node: cst.BaseExpression) -> str | None:
        """``int``/``float``/``complex`` when ``node`` is a Python number (literal or inferred), else None."""
        family = number_family(node, self.context)
        if family in (None, "bool"):
            return None
        if contains_host_math(node, self.context):
            return None  # `math.sqrt(2.0)` next to an array is EL501's finding (host float math), not a second one
        if isinstance(node, cst.Name) and node.value in ("True", "False"):
            return None
        return family

    def backend(self, node: cst.BaseExpression) -> str | None:
        """``mlx``/``torch`` when ``node`` is an MLX or PyTorch array (NumPy arrays are not this rule's business)."""
        return mlx_or_torch_array(self.context, node)

    def in_subscript(self) -> bool:
        return any(isinstance(node, cst.SubscriptElement) for node in self.context.ancestors)

    def exempt_int_in_subscript(self, family: str) -> bool:
        return family == "int" and self.in_subscript()

    def integer_arithmetic(self, family: str, operand: cst.BaseExpression | None) -> bool:
        """A Python int meeting an array of a known integer dtype: nothing can round or promote."""
        return family == "int" and operand is not None and is_int(self.context.dtype_of(operand))

    def fix_for(self, number: cst.BaseExpression, operand: cst.BaseExpression | None, backend: str):
        typed = scalar_replacement(self.context, number, operand, backend)
        proven = operand is not None and self.context.proven_operands(backend, number, operand)
        fix = RawFix(
            safe=typed.safe and proven,
            replacements=[(number, typed.node)],
            imports=typed.imports,
            description=f"Use a typed scalar with dtype {typed.dtype_text}",
        )
        # the message's note when the fix would be safe but for an assumed operand type
        note = ASSUMED_NOTE if typed.safe and operand is not None and not proven else ""
        return fix, typed.text, note
