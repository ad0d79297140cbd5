"""EL902 suppression-without-reason."""

from __future__ import annotations

from emberlint.rule import FixAvailability, Invalid, Rule


class UnexplainedSuppression(Rule):
    """A suppression comment with no reason after it: ``x.item()  # emberlint: ignore[EL101]``.

    Why it matters numerically: every suppression in array code accepts a conversion the rules exist to catch
    (a host round trip, an untyped constant, a cast). The reason is the reviewer's record of why that conversion is
    exact or harmless here; without it the next reader cannot tell a checked exception from a silenced bug.

    Fix: say why after the directive, ``# emberlint: ignore[EL101]  # reason: report value, not in the graph``.
    The engine reports this rule itself; it is off in the recommended profile and an error in the strict one
    (the reference package's policy: suppressions only with a reason).
    """

    CODE = "EL902"
    NAME = "suppression-without-reason"
    MESSAGE = "Suppression without a reason: add `# reason: ...` saying why the conversion is right"
    SEVERITY = None
    FIX = FixAvailability.NONE
    NEEDS_BACKEND = False
    VALID = [
        """
        import mlx.core as mx
        def f(a: mx.array):
            return a.item()  # emberlint: ignore[EL101]  # reason: a report
        """,
        """
        import mlx.core as mx
        def f(a: mx.array):
            return a.item()  # noqa: EL101 (printed, not computed with)
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            def f(a: mx.array):
                return a.item()  # emberlint: ignore[EL101]
                                 ^ EL902
            """,
        ),
    ]
