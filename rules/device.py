"""EL7xx: device moves and graph evaluation in the compute path."""

from __future__ import annotations

import re

import libcst as cst
from emberlint.rules._coach import (
    code_of,
    in_loop,
    keyword,
    method_call,
    mlx_port,
    string_value,
    table,
)

from emberlint.rule import FixAvailability, Invalid, Rule
from emberlint.walk import subtree


def _device_string(node: cst.BaseExpression | None) -> str | None:
    value = string_value(node)
    if value is None:
        return None
    base = value.split(":", 1)[0]
    return base if base in table()["device"]["device_strings"] else None


class HostTransferInCompute(Rule):
    """``.cpu()``, ``.to("cpu")``, ``.cuda()`` or ``.to(device)`` inside ``forward``/``__call__`` of a module
    (``.numpy()`` there is EL103).

    Why it matters numerically: a device move inside the forward pass synchronises the device (the GPU queue drains
    before the copy), copies the activations, and cuts the autograd graph when it goes through NumPy (gradients of
    everything before ``.numpy()`` are silently zero). ``.to(device)`` of an already-placed activation is a no-op at
    best; at worst it moves a float32 activation to a device where the next op runs a different kernel (MPS and CPU
    reductions round differently, so parity tests drift by 1e-6 relative from call to call).

    Fix: place the module and its inputs once, outside (``model.to(device)``; MLX: unified memory, no move at all),
    and keep ``forward``/``__call__`` device-free. Convert to NumPy only after the forward pass.

    Profile: strict only. On real code (``benchmarks/real_code_precision.py``) its findings were
    ``self.inv_freq.to(device=x.device)``: a buffer placed with the module, so the move is a no-op.
    """

    CODE = "EL701"
    NAME = "host-transfer-in-compute"
    MESSAGE = "`{call}` inside `{method}` moves data between devices on every call; {how}"
    SEVERITY = None  # strict only: on real code its findings were `.to(x.device)` of placed buffers (no move)
    FIX = FixAvailability.NONE
    VALID = [
        """
        import torch
        class M(torch.nn.Module):
            def forward(self, u):
                return self.proj(u.to(torch.float32))
        """,
        """
        import torch
        model = M().to('cuda')
        y = model(x).cpu().numpy()
        """,
        """
        import mlx.core as mx
        import mlx.nn as nn
        class M(nn.Module):
            def __call__(self, u):
                return mx.multiply(u, u)
        """,
        """
        import torch
        class M(torch.nn.Module):
            def forward(self, x):
                if x.device != self.w.device:
                    x = x.to(self.w.device)
                return x @ self.w
        """,
    ]
    INVALID = [
        Invalid(
            """
            import torch
            import torch.nn as nn
            class HyenaFilter(nn.Module):
                def forward(self, x, L):
                    k = self.filter(L).to(x.device)
                        ^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL701
                    return k.cpu()
                           ^^^^^^^ EL701
            """,
        ),
        Invalid(
            """
            import torch
            class FFTConv(torch.nn.Module):
                def forward(self, u, k):
                    return torch.fft.irfft(u * k, norm='forward').to('cpu')
                           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL701
            """,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        method = method_call(node)
        if method is None or not self.context.in_compute_method():
            return
        if self.context.qualified_name(node.func) is not None:
            return
        name = method[1]
        facts = table()["device"]
        if name in facts["host_methods"] and not node.args:
            pass
        elif name in facts["move_methods"]:
            if mlx_port(self.context):
                return  # the porting rule EL803 reports torch device calls in MLX code
            if name == "to" and (not self._device_argument(node) or self._guarded_by_device_check()):
                return
        else:
            return
        function = self.context.enclosing_function()
        how = ("MLX arrays live in unified memory: drop the move, and convert to NumPy only after `__call__`"
               if self.context.imports_backend("mlx") else
               "place the module and inputs once outside `forward` (`model.to(device)`) and drop the move")
        self.report(node, call=f".{name}({', '.join(code_of(a.value) for a in node.args)})",
                    method=function.name.value if function else "forward", how=how)

    def _guarded_by_device_check(self) -> bool:
        """``if x.device != self.device: x = x.to(self.device)``: a move that happens once, not on every call."""
        branch = self.context.enclosing(cst.If)
        return branch is not None and any(
            isinstance(n, cst.Attribute) and n.attr.value == "device" for n in subtree(branch.test))

    def _device_argument(self, node: cst.Call) -> bool:
        value = keyword(node, "device")
        if value is not None:
            return True
        positional = [a.value for a in node.args if a.keyword is None]
        if not positional:
            return False
        first = positional[0]
        if _device_string(first):
            return True
        qualified = self.context.qualified_name(first.func if isinstance(first, cst.Call) else first) or ""
        if qualified == "torch.device":
            return True
        text = code_of(first)
        return text.endswith("device") or text.endswith(".device")


class TensorWithoutDevice(Rule):
    """``torch.tensor(...)`` / ``torch.zeros(...)`` and other factories without ``device=`` inside ``forward`` in a
    file that places tensors on a device.

    Why it matters numerically: the factory makes a CPU tensor. Mixed with a CUDA activation it raises; mixed with a
    CPU-resident scalar (0-d) it is silently accepted and copied to the device on every call, a host-device sync per
    forward. With ``torch.tensor(0.5)`` the dtype is float32 but ``torch.tensor(1)`` is int64 and ``torch.tensor(x,
    dtype=torch.float64)`` promotes the result, which the device mismatch error message hides.

    Fix: create it on the input's device and dtype, ``torch.zeros(n, device=x.device, dtype=x.dtype)``, or register a
    buffer in ``__init__`` (``self.register_buffer(...)``) so ``model.to(device)`` moves it.
    """

    CODE = "EL702"
    NAME = "tensor-without-device"
    MESSAGE = "`{call}(...)` without `device=` in `{method}` makes a CPU tensor in code that uses a device; {how}"
    FIX = FixAvailability.NONE
    VALID = [
        """
        import torch
        class M(torch.nn.Module):
            def forward(self, x):
                t = torch.arange(x.shape[-1], device=x.device)
                return x.to(device=x.device) + t
        """,
        """
        import torch
        class M(torch.nn.Module):
            def forward(self, x):
                return x + torch.zeros(3)
        """,
    ]
    INVALID = [
        Invalid(
            """
            import torch
            import torch.nn as nn
            class PositionalEmbedding(nn.Module):
                def __init__(self, L, device='cuda'):
                    super().__init__()
                    self.t = torch.linspace(0, 1, L, device=device)
                def forward(self, L):
                    w = 2 * 3.14159 * torch.arange(L) / L
                                      ^^^^^^^^^^^^^^^ EL702
                    return self.t[:, :L], w
            """,
        ),
    ]

    def _file_uses_device(self) -> bool:
        cached = self.__dict__.get("_uses")
        if cached is None:
            source = self.context.source
            cached = "device=" in source or "torch.device(" in source or ".to(device" in source or ".cuda(" in source
            self._uses = cached
        return cached

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.context.qualified_name(node.func) or ""
        module, _, function = qualified.rpartition(".")
        if module != "torch" or function not in table()["device"]["torch_factories"]:
            return
        if keyword(node, "device") is not None or function.endswith("_like"):
            return
        if not self.context.in_compute_method() or not self._file_uses_device():
            return
        method = self.context.enclosing_function()
        self.report(node, call=code_of(node.func), method=method.name.value if method else "forward",
                    how="pass `device=x.device` (and `dtype=x.dtype`) or register a buffer in `__init__`")


_TEST_PATH = re.compile(r"(^|/)(tests?|testing)/|(^|/)test_[^/]*\.py$|_test\.py$")


class MultipleDevices(Rule):
    """More than one device named in one module: ``"cuda"`` and ``"cpu"``, ``torch.device("mps")`` and
    ``.cuda()``, or ``mx.gpu`` and ``mx.cpu``.

    Why it matters numerically: the same operation gives different bits on different devices (CUDA reductions use a
    different summation tree than the CPU; MLX CPU and GPU ``exp``/``sin`` differ in the last ulp, float32
    ``1.2e-7`` relative), so code that splits one computation across devices has results that depend on placement,
    and each crossing is a synchronising copy. A device picked in one place and hard-coded in another is also the
    usual cause of "expected all tensors to be on the same device".

    Fix: choose the device once (a ``device`` parameter or ``torch.device("cuda" if torch.cuda.is_available() else
    "cpu")``; MLX: ``mx.set_default_device``) and pass it everywhere. ``map_location=`` of a checkpoint load is not
    counted, nor the two arms of one ``"cuda" if ... else "cpu"`` (or ``mx.gpu if ... else mx.cpu``) choice, nor a
    device in a comparison (``mx.default_device() == mx.gpu``) or in a branch that probes availability (``if
    torch.backends.mps.is_available(): device = torch.device("mps")``), nor test code (``tests/``, ``testing/``,
    ``test_*.py``), which runs one computation on several devices on purpose.
    """

    CODE = "EL703"
    NAME = "multiple-devices"
    MESSAGE = "Second device `{device}` in this module (first: `{first}` on line {line}); {how}"
    FIX = FixAvailability.NONE
    VALID = [
        """
        import torch
        device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
        state = torch.load(path, map_location='cpu')
        x = x.to(device)
        """,
        """
        import mlx.core as mx
        with mx.stream(mx.cpu):
            y = mx.exp(x)
        """,
        """
        import mlx.core as mx
        device = mx.gpu if mx.metal.is_available() else mx.cpu
        mx.set_default_device(device)
        """,
        """
        import torch
        if torch.cuda.is_available():
            device = torch.device('cuda')
        elif torch.backends.mps.is_available():
            device = torch.device('mps')
        else:
            device = torch.device('cpu')
        """,
    ]
    INVALID = [
        Invalid(
            """
            import torch
            class FFTConv(torch.nn.Module):
                def forward(self, u, k):
                    k_f = torch.fft.rfft(k.to('cuda'), n=2 * u.shape[-1])
                    return k_f.to('cpu')
                                  ^^^^^ EL703
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            with mx.stream(mx.cpu):
                k = mx.exp(x)
            mx.set_default_device(mx.gpu)
                                  ^^^^^^ EL703
            """,
        ),
    ]

    def visit_Module(self, node: cst.Module) -> None:
        self._seen: dict[str, cst.CSTNode] = {}

    def _device_of(self, node: cst.CSTNode) -> str | None:
        if isinstance(node, cst.Attribute):
            if isinstance(self.context.parent(), (cst.IfExp, cst.Comparison, cst.ComparisonTarget)):
                return None  # one choice (`mx.gpu if ... else mx.cpu`), or a probe (`mx.default_device() == mx.gpu`)
            return table()["device"]["device_objects"].get(self.context.qualified_name(node) or "")
        if isinstance(node, cst.SimpleString):
            parent = self.context.parent()
            if isinstance(parent, cst.IfExp):
                return None
            if isinstance(parent, cst.Arg) and parent.keyword is not None and parent.keyword.value == "map_location":
                return None
            grand = self.context.parent(2)
            if isinstance(parent, cst.Arg) and isinstance(grand, cst.Call):
                qualified = self.context.qualified_name(grand.func) or ""
                method = method_call(grand)
                if qualified == "torch.device" or (parent.keyword and parent.keyword.value == "device") or (
                    method and method[1] == "to" and qualified == ""
                ):
                    return _device_string(node)
            return None
        method = method_call(node)
        if method is not None and method[1] in ("cuda", "cpu") and not node.args:
            if self.context.qualified_name(node.func) is None:
                return method[1]
        return None

    def _visit(self, node: cst.CSTNode) -> None:
        if isinstance(self.context.parent(), cst.Element):
            return  # an enumeration of devices (``(mx.cpu, mx.gpu)``), not a placement
        device = self._device_of(node)
        if device is None:
            return
        if _TEST_PATH.search(self.context.path.replace("\\", "/")):
            return  # test code runs one computation on several devices on purpose
        branch = self.context.enclosing(cst.If)
        if branch is not None and "is_available" in code_of(branch.test):
            return  # a probe: `if torch.cuda.is_available(): device = torch.device("cuda") elif ...`
        if device not in self._seen:
            self._seen[device] = node
            if len(self._seen) == 2:
                first_name, first_node = next(iter(self._seen.items()))
                self.report(node, device=device, first=first_name, line=self._line_of(first_node), how=self._how())

    def _line_of(self, node: cst.CSTNode) -> int:
        return self.context.line_of(node)

    def _how(self) -> str:
        if self.context.imports_backend("mlx"):
            return "pick one device (`mx.set_default_device`) and keep one computation on it"
        return "choose the device once (a `device` parameter) and pass it everywhere"

    visit_Attribute = _visit
    visit_SimpleString = _visit
    visit_Call = _visit


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
        what = _element_loop(self.context, loop)
        if what is not None:
            self.report(node, call=code_of(node.func), what=what)


def _element_loop(context, loop: cst.For) -> str | None:
    """What a ``for`` loop iterates over when it walks an array: a dimension (``range(x.shape[i])``/``len(x)``)
    or the array's rows."""
    source = loop.iter
    if isinstance(source, cst.Call) and isinstance(source.func, cst.Name) and source.func.value == "range":
        if len(source.args) >= 3:
            return None  # range(0, n, step): one evaluation per chunk (bounded memory at load time), not per element
        for arg in source.args:
            for inner in subtree(arg.value):
                if isinstance(inner, cst.Attribute) and inner.attr.value == "shape":
                    return f"`{code_of(source)}`"
                if isinstance(inner, cst.Call) and isinstance(inner.func, cst.Name) and inner.func.value == "len":
                    if inner.args and context.is_array(inner.args[0].value):
                        return f"`{code_of(source)}`"
        return None
    if context.is_array(source):
        return f"the rows of `{code_of(source)}`"
    return None


class PythonLoopOverDimension(Rule):
    """A Python ``for`` loop over an array dimension (``for i in range(x.shape[1])``) in ``__call__``/``forward``
    that collects per-slice results into a list later passed to ``mx.stack``/``mx.concatenate``/``torch.stack``/
    ``torch.cat``.

    Why it matters numerically: every iteration launches its own small kernels (and builds its own graph nodes in
    MLX), so the cost grows with the dimension, not with the data: a per-channel Hyena filter loop over 768 channels
    is 768 FFTs of one row instead of one batched FFT. Results also differ in the last bits from the vectorised
    form because reductions of one slice use a different blocking.

    Recurrences (the body updates a name from its previous value, ``h = cell(x[:, t], h)``) are not reported.

    Fix: vectorise along the dimension: use the ``axis=`` argument of the op (``mx.fft.rfft(k, n=n, axis=0)``
    transforms every channel at once), broadcasting (``x[:, None] * w[None]``), ``mx.vmap(f, in_axes=1)`` /
    ``torch.vmap``, or ``einsum``.
    """

    CODE = "EL705"
    NAME = "python-loop-over-dimension"
    MESSAGE = "Python loop over {what} in `{method}` builds `{name}` for `{stack}`; vectorise along the axis ({how})"
    FIX = FixAvailability.NONE
    VALID = [
        """
        import mlx.core as mx
        import mlx.nn as nn
        class F(nn.Module):
            def __call__(self, k):
                return mx.fft.rfft(k, n=2 * k.shape[0], axis=0, norm="backward")
        """,
        """
        import mlx.core as mx
        import mlx.nn as nn
        class F(nn.Module):
            def __call__(self, x):
                for layer in self.layers:
                    x = layer(x)
                return x
        """,
    ]
    INVALID = [
        Invalid(
            """
            import torch
            import torch.nn as nn
            class LongConv(nn.Module):
                def forward(self, u, k):
                    ys = []
                    for c in range(u.shape[1]):
                    ^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL705
                        ys.append(torch.fft.irfft(torch.fft.rfft(u[:, c], n=2 * u.shape[-1], norm="backward") * k[c], norm="backward"))
                    return torch.stack(ys, dim=1)
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            import mlx.nn as nn
            class Mix(nn.Module):
                def __call__(self, x):
                    rows = []
                    for i in range(x.shape[0]):
                    ^^^^^^^^^^^^^^^^^^^^^^^^^^^ EL705
                        rows.append(mx.exp(x[i]))
                    return mx.stack(rows)
            """,
        ),
    ]

    def visit_For(self, node: cst.For) -> None:
        if not self.context.in_compute_method():
            return
        what = _element_loop(self.context, node)
        if what is None:
            return
        if _loop_carried(node):
            return
        appended = {
            method[0].value
            for inner in subtree(node.body)
            if (method := method_call(inner)) is not None and method[1] == "append" and isinstance(method[0], cst.Name)
        }
        function = self.context.enclosing_function()
        if not appended or function is None:
            return
        for inner in subtree(function):
            if not isinstance(inner, cst.Call) or not inner.args:
                continue
            stack = self.context.qualified_name(inner.func) or ""
            first = inner.args[0].value
            if stack in table()["device"]["stack_calls"] and isinstance(first, cst.Name) and first.value in appended:
                how = ("`axis=` of the op, broadcasting or `mx.vmap`" if stack.startswith("mlx")
                       else "the op's `dim=`, broadcasting or `torch.vmap`")
                self.report(node, what=what, method=function.name.value, name=first.value,
                            stack=code_of(inner.func), how=how)
                return


def _loop_carried(loop: cst.For) -> bool:
    """The body updates a name from its own previous value (``h = cell(x[i], h)``, ``acc += ...``): a recurrence
    that a vectorised form cannot replace."""
    assigned: set[str] = set()
    values: list[cst.CSTNode] = []
    for inner in subtree(loop.body):
        if isinstance(inner, cst.AugAssign) and isinstance(inner.target, cst.Name):
            return True
        if isinstance(inner, cst.Assign):
            for target in inner.targets:
                assigned.update(n.value for n in subtree(target.target) if isinstance(n, cst.Name))
            values.append(inner.value)
    return any(isinstance(n, cst.Name) and n.value in assigned for value in values for n in subtree(value))
