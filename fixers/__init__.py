"""Rewrites shared by rules: operators to functions, literals to typed scalars, missing dtype, imports."""
