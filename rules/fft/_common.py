"""What several rules of the ``fft`` family share. Not a rule module (the leading underscore keeps
the registry out): rule modules import from here, never from each other."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from emberlint.rule import Rule
from emberlint.rules._coach import assignments, method_call, string_value, table
from emberlint.syntax import argument, keyword_argument, kind

# Methods that keep a spectrum's scaling (the value is the same spectrum, reshaped or conjugated).
PRESERVING = frozenset(
    ["conj", "unsqueeze", "squeeze", "reshape", "view", "astype", "to", "expand_dims", "broadcast_to", "contiguous",
     "swapaxes", "transpose", "type"]
)


SELF = object()


@dataclass(frozen=True)
class Spectrum:
    """What is statically known about a spectrum: is it already divided by n, and which transforms made it."""

    scaled: bool
    calls: tuple[cst.Call, ...]


def merge(values: list) -> Spectrum | None:
    known = [v for v in values if v is not SELF]
    if not known or any(v is None for v in known):
        return None
    if len({v.scaled for v in known}) != 1:
        return None
    return Spectrum(known[0].scaled, tuple(c for v in known for c in v.calls))


class FftRule(Rule):
    """Shared FFT lookups: which call is which transform, and what a spectrum expression holds."""

    def fft_call(self, node: cst.CSTNode) -> tuple[str, str] | None:
        """``(backend, function)`` when ``node`` calls ``torch.fft.*`` / ``mx.fft.*``."""
        if kind(node) != "Call":
            return None
        qualified = self.context.qualified_name(node.func)
        if qualified is None:
            return None
        module, _, function = qualified.rpartition(".")
        for backend, fft_module in table()["fft"]["modules"].items():
            if module == fft_module:
                return backend, function
        return None

    def norm_of(self, call: cst.Call) -> str | None:
        """The ``norm`` the call uses: its literal value, the default when absent, None when not a literal."""
        arg = keyword_argument(call, "norm")
        if arg is None:
            return table()["fft"]["default_norm"]
        return string_value(arg.value)

    def _bindings(self) -> dict[str, list[cst.BaseExpression]]:
        owner = self.context.enclosing_function() or self.context.module
        cache = self.__dict__.setdefault("_assignment_cache", {})
        if owner not in cache:
            cache[owner] = assignments(owner)
        return cache[owner]

    def spectrum(self, node: cst.BaseExpression, seen: frozenset[str] = frozenset()):
        """A ``Spectrum`` for a forward transform (optionally divided by n), ``SELF`` for a name being resolved,
        None when unknown."""
        if kind(node) == "Name":
            if node.value in seen:
                return SELF
            values = self._bindings().get(node.value)
            if not values:
                return None
            return merge([self.spectrum(v, seen | {node.value}) for v in values])
        found = self.fft_call(node)
        if found is not None:
            if found[1] not in table()["fft"]["forward"]:
                return None
            return Spectrum(self.norm_of(node) == "forward", (node,))
        if kind(node) == "BinaryOperation":
            if kind(node.operator) == "Divide":
                inner = self.spectrum(node.left, seen)
                return Spectrum(True, inner.calls) if isinstance(inner, Spectrum) and not inner.scaled else None
            if kind(node.operator) in ("Add", "Subtract"):
                return merge([self.spectrum(node.left, seen), self.spectrum(node.right, seen)])
            return None
        if kind(node) == "Subscript":
            return self.spectrum(node.value, seen)
        if kind(node) == "Call":
            qualified = self.context.qualified_name(node.func) or ""
            if qualified.rsplit(".", 1)[-1] in ("divide", "div") and node.args:
                inner = self.spectrum(node.args[0].value, seen)
                return Spectrum(True, inner.calls) if isinstance(inner, Spectrum) and not inner.scaled else None
            method = method_call(node)
            if method is not None and method[1] in PRESERVING and qualified == "":
                return self.spectrum(method[0], seen)
        return None

    def factors(self, node: cst.BaseExpression) -> list[cst.BaseExpression]:
        """The factors of a product ``a * b`` / ``mx.multiply(a, b)`` / ``torch.mul(a, b)``."""
        if kind(node) == "BinaryOperation" and kind(node.operator) == "Multiply":
            return self.factors(node.left) + self.factors(node.right)
        if kind(node) == "Call" and len(node.args) == 2 and all(a.keyword is None for a in node.args):
            qualified = self.context.qualified_name(node.func) or ""
            if qualified in ("mlx.core.multiply", "torch.mul", "torch.multiply"):
                return self.factors(node.args[0].value) + self.factors(node.args[1].value)
        return [node]

    def inverse_spectra(self, call: cst.Call) -> list[tuple[cst.BaseExpression, Spectrum | None]] | None:
        """Each factor of the inverse transform's input with its spectrum (None: unknown)."""
        first = argument(call, 0, "input") or argument(call, 0, "a")
        if first is None:
            return None
        result = []
        for factor in self.factors(first):
            found = self.spectrum(factor)
            result.append((factor, found if isinstance(found, Spectrum) else None))
        return result

    def inverse(self, node: cst.Call) -> tuple[str, str] | None:
        found = self.fft_call(node)
        if found is None or found[1] not in table()["fft"]["inverse"]:
            return None
        return found
