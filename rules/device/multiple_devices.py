"""EL703 multiple-devices."""

from __future__ import annotations

import re

import libcst as cst

from emberlint.rule import FixAvailability, Invalid, Rule
from emberlint.rules._coach import method_call, table
from emberlint.rules.device._common import device_string
from emberlint.syntax import code, kind

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
    WHOLE_FILE = True  # the first two devices of the file
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
        if kind(node) == "Attribute":
            if kind(self.context.parent()) in ("IfExp", "Comparison", "ComparisonTarget"):
                return None  # one choice (`mx.gpu if ... else mx.cpu`), or a probe (`mx.default_device() == mx.gpu`)
            return table()["device"]["device_objects"].get(self.context.qualified_name(node) or "")
        if kind(node) == "SimpleString":
            parent = self.context.parent()
            if kind(parent) == "IfExp":
                return None
            if kind(parent) == "Arg" and parent.keyword is not None and parent.keyword.value == "map_location":
                return None
            grand = self.context.parent(2)
            if kind(parent) == "Arg" and kind(grand) == "Call":
                qualified = self.context.qualified_name(grand.func) or ""
                method = method_call(grand)
                if qualified == "torch.device" or (parent.keyword and parent.keyword.value == "device") or (
                    method and method[1] == "to" and qualified == ""
                ):
                    return device_string(node)
            return None
        method = method_call(node)
        if method is not None and method[1] in ("cuda", "cpu") and not node.args:
            if self.context.qualified_name(node.func) is None:
                return method[1]
        return None

    def _visit(self, node: cst.CSTNode) -> None:
        if kind(self.context.parent()) == "Element":
            return  # an enumeration of devices (``(mx.cpu, mx.gpu)``), not a placement
        device = self._device_of(node)
        if device is None:
            return
        if _TEST_PATH.search(self.context.path.replace("\\", "/")):
            return  # test code runs one computation on several devices on purpose
        branch = self.context.enclosing(cst.If)
        if branch is not None and "is_available" in code(branch.test):
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
