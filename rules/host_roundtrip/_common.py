"""What several rules of the ``host_roundtrip`` family share. Not a rule module (the leading underscore keeps
the registry out): rule modules import from here, never from each other."""

from __future__ import annotations

import libcst as cst

from emberlint.backends import module_of
from emberlint.compute_path import in_compute_path, in_host_output
from emberlint.rule import Rule
from emberlint.rules._coach import file_backend
from emberlint.rules._shared import mlx_or_torch_array


class HostRoundTripRule(Rule):
    """Shared: which arrays count (MLX/PyTorch, or unknown-backend arrays in a file importing one) and where."""

    def device_array(self, node: cst.BaseExpression) -> str | None:
        """The backend (``mlx``/``torch``) of an MLX/PyTorch array expression, else None."""
        return mlx_or_torch_array(self.context, node, unknown=file_backend(self.context))

    def in_compute_code(self) -> bool:
        """Where a host value is not required. Never in host output (``print``/logging/f-string arguments,
        ``raise``/``assert``). Recommended profile: on the compute path (``__call__``/``forward`` of a module and
        the functions of the file they call; ``emberlint/compute_path.py``). Strict: any function of a file that
        imports MLX or PyTorch (module-level scripts are host code)."""
        if file_backend(self.context) is None:
            return False
        if self.context.enclosing_function() is None or in_host_output(self.context):
            return False
        return self.context.config.profile == "strict" or in_compute_path(self.context)

    def module_text(self, backend: str) -> str:
        return self.context.module_ref(module_of(backend)).text


BACKEND_NAMES = {"mlx": "MLX", "torch": "PyTorch"}


ARTICLE = {"mlx": "an", "torch": "a"}
