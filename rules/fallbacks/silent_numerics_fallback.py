"""EL910 silent-numerics-fallback."""

from __future__ import annotations

import re

import libcst as cst

from emberlint.api_facts import matches_prefix
from emberlint.backends import is_mlx_or_torch
from emberlint.compute_path import _is_output_call
from emberlint.rule import FixAvailability, Invalid, Rule
from emberlint.rules._coach import table
from emberlint.syntax import code
from emberlint.walk import subtree


def _trigger() -> tuple[str, str]:
    """What a file without a backend word must hold for EL910 to fire: an ``except``, and the name of a config
    loader or ``nn`` (a subclass of some ``*.nn.Module`` makes its ``forward`` parameters arrays); nothing else
    in such a file can be array code."""
    names = {loader.rsplit(".", 1)[-1] for loader in table()["fallbacks"]["config_loaders"]} | {"nn"}
    return r"\bexcept\b", r"\b(?:" + "|".join(sorted(map(re.escape, names))) + r")\b"


class SilentNumericsFallback(Rule):
    """``try: ... except Exception:`` (or a bare ``except:``) around array code or around loading a numerics
    configuration, whose handler falls back (returns, assigns defaults, passes) instead of re-raising.

    Why it matters numerically: the fallback hides the failure and changes the numbers. A config that fails to parse
    falls back to ``layer_norm_eps=1e-12`` instead of the checkpoint's ``1e-5`` (a LayerNorm of a near-constant
    row then differs by orders of magnitude), a failed ``mx.fft`` call falls back to a direct convolution with a
    different summation order, a failed float64 path falls back to float32 with 1e-7 instead of 1e-16 error, and the
    run "passes" with results that no longer match the original. ``except Exception`` also catches the shape and
    dtype errors that point at the porting bug.

    Handlers that re-raise, use the caught exception (``except Exception as error: errors.append(error)``) or
    warn/log are not silent and are not reported.

    Fix: catch the specific error you expect (``FileNotFoundError``, ``KeyError``, ``ImportError``) and re-raise or
    log loudly otherwise; let array errors propagate.
    """

    CODE = "EL910"
    NAME = "silent-numerics-fallback"
    MESSAGE = "`{handler}` around {what} falls back silently; catch the specific error and re-raise the rest ({how})"
    FIX = FixAvailability.NONE
    NEEDS_BACKEND = False
    TRIGGER = _trigger()
    VALID = [
        """
        import json
        def load(path):
            try:
                return json.load(open(path))
            except FileNotFoundError:
                return {}
        """,
        """
        import mlx.core as mx
        def f(x):
            try:
                return mx.fft.rfft(x, norm="backward")
            except Exception as error:
                raise ValueError('bad input') from error
        """,
        """
        try:
            import torch
        except Exception:
            torch = None
        """,
        """
        import torch
        def save(model, path):
            try:
                torch.save(model.state_dict(), path)
            except Exception:
                return False
            return True
        """,
        """
        import torch
        def pick():
            try:
                ok = torch.cuda.is_available() and torch.backends.cudnn.enabled
            except Exception:
                ok = False
            return torch.device('cuda' if ok else 'cpu')
        """,
        """
        import mlx.core as mx
        def report(x: mx.array, logger):
            try:
                logger.info('mean %f', mx.mean(x).item())
            except Exception:
                pass
        """,
    ]
    INVALID = [
        Invalid(
            """
            import json
            from m2bert.config import BertConfig
            def get_config(path):
                try:
                    return BertConfig.from_dict(json.load(open(path)))
                except Exception:
                ^^^^^^^^^^^^^^^^^ EL910
                    return BertConfig(layer_norm_eps=1e-12)
            """,
        ),
        Invalid(
            """
            import torch
            def fftconv(u, k, n):
                try:
                    y = torch.fft.irfft(torch.fft.rfft(u, n=n) * torch.fft.rfft(k, n=n), n=n)
                except:
                ^^^^^^^ EL910
                    y = torch.nn.functional.conv1d(u, k)
                return y
            """,
        ),
        Invalid(
            """
            import mlx.core as mx
            def to_f64(x):
                try:
                    return x.astype(mx.float64)
                except BaseException:
                ^^^^^^^^^^^^^^^^^^^^^ EL910
                    pass
                return x
            """,
        ),
    ]

    def visit_Try(self, node: cst.Try) -> None:
        self._try = node
        for handler in node.handlers:
            broad = self._broad(handler)
            if broad is None or self._reports(handler):
                continue
            what = self._guarded(node.body)
            if what is not None:
                if what != "array code":
                    how = "a config that does not parse must not turn into default eps/dtypes"
                elif self.context.imports_backend("mlx"):
                    how = "MLX: let shape/dtype `ValueError`s from `mx` propagate"
                else:
                    how = "PyTorch: let `RuntimeError`s from torch propagate"
                self.report(handler, handler=broad, what=what, how=how)

    def _reports(self, handler: cst.ExceptHandler) -> bool:
        """The handler re-raises, uses the caught exception, or warns/logs: the failure is not silent."""
        bound = handler.name.name.value if handler.name is not None and isinstance(handler.name.name, cst.Name) else None
        loud = table()["fallbacks"]["loud_words"]
        for inner in subtree(handler.body):
            if isinstance(inner, cst.Raise) or (bound and isinstance(inner, cst.Name) and inner.value == bound):
                return True
            if isinstance(inner, cst.Call) and any(word in code(inner.func).lower() for word in loud):
                return True
        return False

    def _broad(self, handler: cst.ExceptHandler) -> str | None:
        if handler.type is None:
            return "except:"
        names = handler.type.elements if isinstance(handler.type, cst.Tuple) else [handler.type]
        for element in names:
            value = element.value if isinstance(element, cst.Element) else element
            if isinstance(value, cst.Name) and value.value in table()["fallbacks"]["broad_exceptions"]:
                return f"except {code(handler.type)}:"
        return None

    def _guarded(self, body: cst.BaseSuite) -> str | None:
        loaders = table()["fallbacks"]["config_loaders"]
        non_numeric = frozenset(table()["fallbacks"]["non_numeric_apis"])
        skipped: set[int] = set()
        for inner in subtree(body):
            if id(inner) in skipped:
                continue
            if isinstance(inner, (cst.Import, cst.ImportFrom)):
                return None
            if isinstance(inner, (cst.Call, cst.Attribute)):
                func = inner.func if isinstance(inner, cst.Call) else inner
                qualified = self.context.qualified_name(func) or ""
                if (qualified and matches_prefix(qualified, non_numeric)) or (
                        isinstance(inner, cst.Call) and _is_output_call(inner)):
                    skipped.update(id(n) for n in subtree(inner))  # saving, device probing, logging: no numerics
                    continue
            if isinstance(inner, cst.Attribute):
                if is_mlx_or_torch(self.context.qualified_name(inner)):
                    return "array code"
            if not isinstance(inner, cst.Call):
                continue
            qualified = self.context.qualified_name(inner.func) or ""
            tail = code(inner.func).rsplit(".", 1)[-1]
            if qualified in loaders or tail in loaders:
                if qualified in table()["fallbacks"]["generic_loaders"] and not re.search(
                        table()["fallbacks"]["config_words"], code(self._try)):
                    continue  # json.loads of something that is not a config (tool-call arguments, a payload)
                return "loading a numerics config"
            if self.context.is_array(inner) or (
                isinstance(inner.func, cst.Attribute) and self.context.is_array(inner.func.value)
            ):
                return "array code"
        return None
