"""EL8xx: PyTorch-to-MLX porting pitfalls (files that import MLX)."""

from __future__ import annotations

import re

import libcst as cst
from emberlint.fixers.keywords import method_to_function, rename_keyword
from emberlint.rules._coach import (
    code_of,
    keyword,
    method_call,
    mlx_port,
    string_value,
    table,
)

from emberlint.model import Severity
from emberlint.rule import FixAvailability, Invalid, RawFix, Rule
from emberlint.walk import nodes_of, subtree


def _porting() -> dict:
    return table()["porting"]


class _PortRule(Rule):
    """Helpers: is this an MLX array / MLX-only file, what class constructed an attribute."""

    def mlx_receiver(self, receiver: cst.BaseExpression) -> bool:
        """The receiver of a method is an MLX array, or (in an MLX-only file) any non-module value."""
        if not self.context.imports_backend("mlx"):
            return False
        inferred = self.context.infer(receiver)
        if inferred.is_array and inferred.backend == "mlx":
            return True
        if inferred.is_array and inferred.backend == "torch":
            return False
        if isinstance(receiver, cst.Call):  # `tl.load(ptr)`: the value of another backend (Triton, NumPy...)
            maker = self.context.qualified_name(receiver.func)
            if maker is not None and not maker.startswith("mlx"):
                return False
        return mlx_port(self.context) and self.context.qualified_name(receiver) is None

    def constructed_by(self, owner: cst.BaseExpression) -> str | None:
        """The qualified class of the ``owner = Class(...)`` assignment with the same text, if any."""
        cache = self.__dict__.get("_constructors")
        if cache is None:
            cache = {}
            for node in nodes_of(self.context.module, "Assign"):
                if isinstance(node.value, cst.Call):
                    qualified = self.context.module_scope.qualified_name(node.value.func)
                    if qualified:
                        for target in node.targets:
                            cache[code_of(target.target)] = qualified
            self._constructors = cache
        return cache.get(code_of(owner))

    def weight_owner(self, target: cst.BaseAssignTargetExpression) -> tuple[str, str] | None:
        """``(owner text, class or '')`` for ``owner.weight = ...`` / ``state["...weight"] = ...``."""
        if isinstance(target, cst.Attribute) and target.attr.value == "weight":
            return code_of(target.value), self.constructed_by(target.value) or ""
        if isinstance(target, cst.Subscript) and len(target.slice) == 1:
            index = target.slice[0].slice
            key = string_value(index.value) if isinstance(index, cst.Index) else None
            if key and key.endswith(".weight"):
                return key[: -len(".weight")], ""
        return None

    def reorders(self, value: cst.CSTNode) -> bool:
        names = set(_porting()["axis_reorders"])
        for node in subtree(value):
            if isinstance(node, cst.Attribute) and node.attr.value in names:
                return True
        return False


class TorchKeywordInMlx(_PortRule):
    """PyTorch's ``dim=`` / ``keepdim=`` keywords passed to an MLX function or MLX array method
    (``mx.sum(x, dim=1)``, ``x.mean(dim=-1, keepdim=True)``).

    Why it matters numerically: MLX spells them ``axis=`` and ``keepdims=``. The call raises ``TypeError`` at
    run time, and only on the path that is executed: a reduction in a rarely used branch (padding mask, the
    bidirectional Hyena filter) survives until that branch runs. A hurried fix that drops the keyword instead
    reduces over *all* axes, a scalar that broadcasts silently.

    Fix: ``dim=`` -> ``axis=``, ``keepdim=`` -> ``keepdims=`` (the fix does exactly this; it is safe for MLX
    functions and for methods of a value proven to be an MLX array, unsafe when the receiver is only assumed one).
    """

    CODE = "EL801"
    NAME = "torch-keyword-in-mlx"
    MESSAGE = "`{old}=` is PyTorch's keyword; MLX's `{call}` takes `{new}=`"
    FIX = FixAvailability.SAFE_WHEN_PROVEN
    VALID = [
        """
        import mlx.core as mx
        y = mx.sum(x, axis=1, keepdims=True)
        """,
        """
        import torch
        y = torch.sum(x, dim=1, keepdim=True)
        """,
        """
        import mlx.core as mx
        import torch
        y = torch.softmax(torch.tensor(x), dim=-1)
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            y = mx.mean(x, dim=-1, keepdim=True)
                           ^^^^^^ EL801
                                   ^^^^^^^^^^^^ EL801
            """,
            fixed="""
            import mlx.core as mx
            y = mx.mean(x, axis=-1, keepdims=True)
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            def norm(x: mx.array):
                return x.sum(dim=1)
                             ^^^^^ EL801
            """,
            fixed="""
            import mlx.core as mx
            def norm(x: mx.array):
                return x.sum(axis=1)
            """,
            unsafe=True,
        ),
        Invalid(
            """
            import mlx.core as mx
            x = mx.ones((2, 3), dtype=mx.float32)
            y = x.sum(dim=1)
                      ^^^^^ EL801
            """,
            fixed="""
            import mlx.core as mx
            x = mx.ones((2, 3), dtype=mx.float32)
            y = x.sum(axis=1)
            """,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        renames = _porting()["keywords"]
        if not any(a.keyword is not None and a.keyword.value in renames for a in node.args):
            return
        qualified = self.context.qualified_name(node.func)
        proven = True
        if qualified is not None:
            if not qualified.startswith("mlx."):
                return
        else:
            method = method_call(node)
            if method is None or not self.mlx_receiver(method[0]):
                return
            receiver = self.context.infer(method[0])
            proven = receiver.is_array and receiver.backend == "mlx" and receiver.proven
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value in renames:
                new = renames[arg.keyword.value]
                fix = RawFix(safe=proven, replacements=[(arg.keyword, rename_keyword(arg.keyword, new))],
                             description=f"Rename {arg.keyword.value}= to {new}=")
                self.report(arg, old=arg.keyword.value, new=new, call=code_of(node.func), fix=fix)


class ForwardWithoutCall(_PortRule):
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


class TorchApiInMlx(_PortRule):
    """PyTorch-only API left in MLX code: ``nn.Parameter``, ``torch.no_grad()``, ``.to(device)``, ``.cuda()``.

    Why it matters numerically: none of them exists in MLX, so the port fails on the first call that reaches them,
    and the usual quick patches change numbers: wrapping a weight in a custom ``Parameter`` class hides it from
    ``model.parameters()`` (the checkpoint loader skips it and it keeps its random init), and ``.to(device)`` shims
    that call ``astype`` turn ``.to(torch.float64)`` into a float64 graph that MLX runs on the CPU only.

    Fix: an ``mx.array`` attribute is a parameter (``self.w = mx.zeros(...)``); gradients exist only inside
    ``mx.grad``/``nn.value_and_grad`` (use ``mx.stop_gradient`` for the rare case); arrays are in unified memory
    (drop ``.to(device)``/``.cuda()``; ``x.astype(dtype)`` for a dtype).
    """

    CODE = "EL803"
    NAME = "torch-api-in-mlx"
    MESSAGE = "`{api}` is PyTorch API in MLX code: {advice}"
    FIX = FixAvailability.NONE
    VALID = [
        """
        import mlx.core as mx
        import mlx.nn as nn
        class M(nn.Module):
            def __init__(self):
                self.w = mx.zeros((3,))
        """,
        """
        import mlx.core as mx
        import torch
        w = mx.array(torch_w.to('cpu').numpy())
        """,
        """
        import mlx.core as mx
        import torch
        def test_parity(x):
            with torch.no_grad():
                ref = torch.nn.functional.gelu(torch.tensor(x))
            return mx.array(ref.numpy())
        """,
        """
        import mlx.core as mx
        import triton.language as tl
        def kernel(ptr):
            x = tl.load(ptr).to(tl.float32)
            return x
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            import mlx.nn as nn
            class Sin(nn.Module):
                def __init__(self, dim, w=10):
                    super().__init__()
                    self.freq = nn.Parameter(w * mx.ones((1, dim)))
                                ^^^^^^^^^^^^ EL803
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            def run(model, x, device):
                with torch.no_grad():
                     ^^^^^^^^^^^^^ EL803
                    return model(x.to(device))
                                   ^^ EL803
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            y = mx.exp(x).cuda()
                          ^^^^ EL803
            """,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if not self.context.imports_backend("mlx"):
            return
        qualified = self.context.qualified_name(node.func)
        names = _porting()["torch_only_names"]
        text = code_of(node.func)
        if qualified and qualified.startswith("torch.") and self.context.imports_backend("torch"):
            return  # a file that imports torch (a torch-vs-MLX parity test) calls torch's own API
        if qualified in names or (qualified is None and not self.context.imports_backend("torch")
                                  and f"torch.{text.split('.', 1)[-1]}" in names and text.startswith("torch.")):
            key = qualified if qualified in names else text
            self.report(node.func, api=text, advice=names[key])
            return
        method = method_call(node)
        methods = _porting()["torch_only_methods"]
        if method is not None and method[1] in methods and qualified is None and self.mlx_receiver(method[0]):
            self.report(node.func.attr, api=f".{method[1]}()", advice=methods[method[1]])


class InplaceOpInMlx(_PortRule):
    """PyTorch in-place tensor methods (``masked_fill_``, ``add_``, ``copy_``, ``zero_``...) on MLX arrays.

    Why it matters numerically: MLX arrays are immutable graph values; these methods do not exist and raise.
    The in-place original also had semantics the port must keep explicitly: ``x.masked_fill_(mask, -1e4)``
    changed ``x`` for every other reference (for example an attention bias shared across layers), and
    ``-1e4`` in float16 is representable while ``-inf`` masks produce NaN rows after softmax when a row is fully
    masked.

    Fix: build a new array and rebind it: ``x = mx.where(mask, value, x)`` for ``masked_fill_``, ``x = x + y`` for
    ``add_``, ``mx.zeros_like(x)`` for ``zero_``; update module weights with ``module.update(...)``.
    """

    CODE = "EL804"
    NAME = "inplace-op-in-mlx"
    MESSAGE = "`.{method}(...)` is a PyTorch in-place op; MLX arrays are immutable: use {replacement}"
    FIX = FixAvailability.NONE
    VALID = [
        """
        import mlx.core as mx
        scores = mx.where(mask, mx.array(-1e4, dtype=scores.dtype), scores)
        """,
        """
        import torch
        scores.masked_fill_(mask, -1e4)
        """,
        """
        import mlx.core as mx
        names.sort_()
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            def attend(scores: mx.array, mask: mx.array):
                scores.masked_fill_(mask, -1e4)
                ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL804
                return mx.softmax(scores, axis=-1)
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            import mlx.nn as nn
            class M(nn.Module):
                def __call__(self, x):
                    return x.add_(1.0)
                           ^^^^^^^^^^^ EL804
            """,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        method = method_call(node)
        if method is None or method[1] not in _porting()["inplace_methods"]:
            return
        if self.context.qualified_name(node.func) is None and self.mlx_receiver(method[0]):
            fix = _porting()["inplace_fixes"].get(method[1], "a new array rebound to the name (`x = f(x)`)")
            self.report(node, method=method[1], replacement=f"`{fix}`")


class MlxTransposePair(_PortRule):
    """``x.transpose(-1, -2)`` (two axes, PyTorch's meaning: swap them) on an MLX array.

    Why it matters numerically: MLX's ``transpose`` takes a full permutation. On a 3-D or 4-D activation two axes
    raise; on a 2-D array ``x.transpose(0, 1)`` is the *identity* permutation in MLX but a swap in PyTorch, so a
    ported ``w.transpose(0, 1)`` silently keeps ``[out, in]`` where the original used ``[in, out]``, and a square
    weight matrix gives wrong numbers without any shape error.

    Fix: ``mx.swapaxes(x, -1, -2)`` (or ``x.swapaxes(-1, -2)``). The fix is unsafe: for 2-D arrays it changes
    which permutation runs.
    """

    CODE = "EL805"
    NAME = "mlx-transpose-pair"
    MESSAGE = "MLX `transpose` takes a full permutation, not two axes to swap; use `{fix}`"
    FIX = FixAvailability.UNSAFE
    VALID = [
        """
        import mlx.core as mx
        y = mx.swapaxes(x, -1, -2)
        """,
        """
        import mlx.core as mx
        def f(x: mx.array):
            return x.transpose(0, 2, 1)
        """,
        """
        import torch
        y = x.transpose(-1, -2)
        """,
        """
        import mlx.core as mx
        def f(w: mx.array):
            return w.transpose(1, 0)
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            def scores(q: mx.array, k: mx.array):
                return mx.matmul(q, k.transpose(-1, -2))
                                    ^^^^^^^^^^^^^^^^^^^ EL805
            """,
            fixed="""
            import mlx.core as mx
            def scores(q: mx.array, k: mx.array):
                return mx.matmul(q, mx.swapaxes(k, -1, -2))
            """,
            unsafe=True,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        method = method_call(node)
        if method is None or method[1] != "transpose" or len(node.args) != 2:
            return
        if any(a.keyword is not None or a.star for a in node.args):
            return
        if not all(isinstance(a.value, (cst.Integer, cst.UnaryOperation)) for a in node.args):
            return
        if [code_of(a.value) for a in node.args] == ["1", "0"]:
            return  # the full permutation of a 2-D array: a swap in MLX and in PyTorch alike
        if self.context.qualified_name(node.func) is not None or not self.mlx_receiver(method[0]):
            return
        ref = self.context.module_ref("mlx.core")
        replacement = method_to_function(node, ref.text, "swapaxes")
        fix = RawFix(safe=False, replacements=[(node, replacement)], imports=[ref.import_line] if ref.import_line else [],
                     description="Use mx.swapaxes")
        shown = code_of(replacement)
        if "\n" in shown:
            shown = f"{ref.text}.swapaxes(x, {', '.join(code_of(a.value) for a in node.args)})"
        self.report(node, self.MESSAGE.format(fix=shown), fix=fix)


class GeluApproximation(_PortRule):
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
        facts = _porting()["gelu"]
        qualified = self.context.qualified_name(node.func) or ""
        if self._faithful_port(facts):
            return
        erf_advice = ("`nn.gelu` / `nn.GELU()` is the exact erf form (PyTorch's default `F.gelu`); keep the "
                      "approximation only if the original model used it (BERT-style `hidden_act=\"gelu\"` is erf)")
        if qualified in facts["mlx_tanh"] or qualified in facts["mlx_fast"]:
            form = "tanh" if qualified in facts["mlx_tanh"] else "sigmoid (fast)"
            self.report(node.func, what=f"MLX `{code_of(node.func)}`", form=form, advice=erf_advice)
        elif qualified == "mlx.nn.GELU":
            approx = string_value(getattr(keyword(node, "approx"), "value", None) or
                                  (node.args[0].value if node.args and node.args[0].keyword is None else None))
            form = facts["mlx_approx_values"].get(approx or "")
            if form:
                self.report(node, what=f"MLX `nn.GELU(approx=\"{approx}\")`", form=form, advice=erf_advice)
        elif qualified in facts["torch_calls"]:
            approx = string_value(getattr(keyword(node, "approximate"), "value", None))
            if approx == "tanh":
                self.report(node, what=f"PyTorch `{code_of(node.func)}(approximate=\"tanh\")`", form="tanh",
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


class ConvWeightLayout(_PortRule):
    """A convolution weight copied from PyTorch into MLX without reordering its axes:
    ``conv.weight = mx.array(torch_w)`` or ``weights["encoder.conv.weight"] = mx.array(...)`` with no
    ``swapaxes``/``transpose``/``moveaxis`` in sight.

    Why it matters numerically: PyTorch stores ``Conv1d`` weights as ``[out, in/groups, k]``, MLX as
    ``[out, k, in/groups]`` (channels last). For M2-BERT's depthwise short filter (``[3*d, 1, 3]``) the MLX layer
    would expect ``[3*d, 3, 1]``; when ``k`` equals ``in/groups`` (square kernels, ``[d, 3, 3]``) the shapes even
    match and the convolution silently mixes the wrong taps.

    Fix: ``mx.swapaxes(w, 1, 2)`` for ``Conv1d`` (``mx.transpose(w, (0, 2, 3, 1))`` for ``Conv2d``) when copying,
    or keep the PyTorch layout and swap in ``__call__`` as the reference port does.
    """

    CODE = "EL807"
    NAME = "conv-weight-layout"
    MESSAGE = ("`{target}` gets a PyTorch conv weight ([out, in/groups, k]) without reordering; MLX conv weights are "
               "[out, k, in/groups]: use `mx.swapaxes(w, 1, 2)`")
    FIX = FixAvailability.NONE
    VALID = [
        """
        import mlx.core as mx
        model.short_filter.weight = mx.swapaxes(mx.array(torch_w.numpy()), 1, 2)
        """,
        """
        import mlx.core as mx
        import mlx.nn as nn
        conv = nn.Conv1d(3, 3, 3)
        conv.weight = mx.zeros((3, 3, 3))
        """,
        """
        import mlx.core as mx
        linear.weight = mx.array(torch_w.numpy())
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            model.conv.weight = mx.array(torch_w.numpy())
            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL807
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            import mlx.nn as nn
            filt = nn.Conv1d(768, 768, 3, groups=768)
            filt.weight = mx.array(state['short_filter.weight'])
            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL807
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            weights['bert.encoder.layer.0.attention.short_filter.weight'] = mx.array(w)
            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL807
            """,
        ),
    ]

    def visit_Assign(self, node: cst.Assign) -> None:
        if not self.context.imports_backend("mlx") or len(node.targets) != 1:
            return
        owner = self.weight_owner(node.targets[0].target)
        if owner is None or self.reorders(node.value):
            return
        text, cls = owner
        is_conv = cls in _porting()["conv_classes"] or (
            not cls and re.search(_porting()["conv_name_pattern"], text) is not None
        )
        if is_conv and self._copied(node.value):
            self.report(node, target=code_of(node.targets[0].target))

    def _copied(self, value: cst.BaseExpression) -> bool:
        """The value comes from outside MLX: ``mx.array(...)``, ``.numpy()``, a state-dict lookup."""
        for inner in subtree(value):
            if isinstance(inner, cst.Call):
                qualified = self.context.qualified_name(inner.func) or ""
                method = method_call(inner)
                if qualified in ("mlx.core.array", "mlx.core.asarray") or (method and method[1] == "numpy"):
                    return True
            if isinstance(inner, cst.Subscript) and len(inner.slice) == 1:
                index = inner.slice[0].slice
                if isinstance(index, cst.Index) and string_value(index.value):
                    return True
        return False


class LinearWeightTransposed(_PortRule):
    """A Linear weight assigned transposed in MLX code: ``linear.weight = w.T`` / ``mx.array(w).swapaxes(0, 1)``.

    Why it matters numerically: PyTorch ``nn.Linear`` and MLX ``nn.Linear`` both store ``weight`` as
    ``[out, in]`` and compute ``x @ weight.T``; the transpose habit from JAX/Keras (``[in, out]``) is wrong here.
    For square projections (M2-BERT's ``out_linear``, ``d x d``) the shapes still match and the layer silently
    applies ``W.T``, an error as large as the weights themselves.

    Fix: copy the weight as is, ``linear.weight = mx.array(w)``.
    """

    CODE = "EL808"
    NAME = "linear-weight-transposed"
    MESSAGE = ("`{target}` gets a transposed weight; PyTorch and MLX `nn.Linear` both store [out, in]: "
               "assign it without the transpose")
    FIX = FixAvailability.NONE
    VALID = [
        """
        import mlx.core as mx
        model.out_linear.weight = mx.array(w)
        """,
        """
        import mlx.core as mx
        model.conv.weight = mx.swapaxes(mx.array(w), 1, 2)
        """,
        """
        import torch
        model.out_linear.weight.data = w.T
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            model.out_linear.weight = mx.array(w).T
            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL808
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            import mlx.nn as nn
            head = nn.Linear(768, 2)
            head.weight = mx.swapaxes(mx.array(torch_w.numpy()), 0, 1)
            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL808
            """,
        ),
    ]

    def visit_Assign(self, node: cst.Assign) -> None:
        if not self.context.imports_backend("mlx") or len(node.targets) != 1:
            return
        owner = self.weight_owner(node.targets[0].target)
        if owner is None or not self.reorders(node.value):
            return
        text, cls = owner
        if cls in _porting()["linear_classes"] or (
            not cls and re.search(_porting()["linear_name_pattern"], text) is not None
        ):
            self.report(node, target=code_of(node.targets[0].target))


class LayerNormDefaultEps(_PortRule):
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
        field = _porting()["layer_norm_eps_field"]
        self._field = field if field in context.source else None  # most files never mention it: nothing to do
        self._attribute: str | None = None  # the first ``<expr>.layer_norm_eps``, as the file spells it
        self._pending: list[cst.Call] = []

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if self._field and self._attribute is None and node.attr.value == self._field:
            self._attribute = code_of(node)

    def _mentioned(self) -> bool:
        """A name or a string key ``layer_norm_eps`` anywhere in the file."""
        return any(
            (node.value if isinstance(node, cst.Name) else string_value(node)) == self._field
            for node in nodes_of(self.context.module, "Name", "SimpleString")
        )

    def visit_Call(self, node: cst.Call) -> None:
        if not self._field:
            return
        positions = _porting()["layer_norm_eps_position"]
        qualified = self.context.qualified_name(node.func)
        if qualified not in positions or keyword(node, "eps") is not None or any(a.star for a in node.args):
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
            self.report(node, call=code_of(node.func), suggestion=suggestion,
                        default=_porting()["layer_norm_default_eps"])
