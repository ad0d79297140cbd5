"""EL901 unused-suppression."""

from __future__ import annotations

from emberlint.rule import FixAvailability, Invalid, Rule


class UnusedSuppression(Rule):
    """A ``# emberlint: ignore[...]`` or ``# noqa: ...`` comment that suppresses nothing.

    Why it matters: a stale suppression hides the next real finding on that line. Suppressions in numerics code
    are promises that a reviewer checked a conversion; one that no longer applies is a promise nobody keeps.

    Fix: remove the comment (or the codes in it that no longer apply). The engine reports this rule itself after
    the other rules ran; it is off in the recommended profile and an error in the strict one.
    """

    CODE = "EL901"
    NAME = "unused-suppression"
    MESSAGE = "Unused suppression: nothing is reported here; remove the comment"
    SEVERITY = None
    FIX = FixAvailability.NONE
    NEEDS_BACKEND = False
    VALID = [
        """
        import mlx.core as mx
        def f(a: mx.array):
            return mx.negative(a)
        """,
    ]
    INVALID = [
        Invalid(
            """
            import mlx.core as mx
            def f(a: mx.array):
                return mx.negative(a)  # noqa: EL301  # reason: old
                                       ^ EL901
            """,
        ),
    ]
