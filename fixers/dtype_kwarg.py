"""Add a keyword argument to a call, keeping its layout: ``mx.array(0.1)`` -> ``mx.array(0.1, dtype=mx.float32)``.
A pure rewrite: which dtype, and whether adding it is exact, is ``emberlint.constructor_facts``' business.
"""

from __future__ import annotations

import libcst as cst


def add_keyword(call: cst.Call, keyword: str, value: cst.BaseExpression) -> cst.Call:
    """``call`` with ``keyword=value`` appended, keeping the call's layout: the separator between its last two
    arguments (or, for one argument on its own line, a line break to that argument's indentation), a trailing
    comma, and the line break before ``)``."""
    new_arg = cst.Arg(
        value=value,
        keyword=cst.Name(keyword),
        equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")),
    )
    args = list(call.args)
    if not args:
        return call.with_changes(args=[new_arg])
    last = args[-1]
    separator = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    if len(args) >= 2 and isinstance(args[-2].comma, cst.Comma):
        separator = args[-2].comma
    elif isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace):
        separator = cst.Comma(whitespace_after=call.whitespace_before_args)
    separator = _without_comment(separator)
    trailing = isinstance(last.comma, cst.Comma)
    tail = last.comma.whitespace_after if trailing else last.whitespace_after_arg
    if isinstance(tail, cst.ParenthesizedWhitespace) and isinstance(separator.whitespace_after,
                                                                      cst.ParenthesizedWhitespace):
        # one argument per line: a comment ending the last argument's line stays on that line
        line = separator.whitespace_after
        separator = separator.with_changes(whitespace_after=tail.with_changes(indent=line.indent,
                                                                              last_line=line.last_line))
        closing = cst.ParenthesizedWhitespace(first_line=cst.TrailingWhitespace(), indent=tail.indent,
                                              last_line=tail.last_line)
        if trailing:
            new_arg = new_arg.with_changes(comma=last.comma.with_changes(whitespace_after=closing))
            args[-1] = last.with_changes(comma=separator.with_changes(whitespace_before=last.comma.whitespace_before))
        else:
            new_arg = new_arg.with_changes(whitespace_after_arg=closing)
            args[-1] = last.with_changes(comma=separator, whitespace_after_arg=cst.SimpleWhitespace(""))
    elif trailing:
        new_arg = new_arg.with_changes(comma=last.comma)  # keep the trailing comma and what follows it
        args[-1] = last.with_changes(comma=separator)
    else:  # the whitespace before ``)`` (a line break) moves behind the new argument
        new_arg = new_arg.with_changes(whitespace_after_arg=last.whitespace_after_arg)
        args[-1] = last.with_changes(comma=separator, whitespace_after_arg=cst.SimpleWhitespace(""))
    return call.with_changes(args=[*args, new_arg])


def dtype_added(call: cst.Call, dtype_text: str) -> cst.Call | str:
    """``call`` with ``dtype=<dtype_text>`` appended: its code where the source gives it, else the node."""
    return add_keyword_text(call, "dtype", dtype_text) or add_keyword(call, "dtype", cst.parse_expression(dtype_text))


def add_keyword_text(call: cst.Call, keyword: str, value_text: str) -> str | None:
    """The code ``add_keyword`` gives, read off the source where that is plain: a call of the light tree without
    comments, either on one line, its last argument ending right at ``)`` (no trailing comma or space) and its last
    two arguments separated by ``", "``, or with one argument per line (``(`` or the comma before the last
    argument ends its line, ``)`` or a trailing comma then ``)`` on a line of its own). None otherwise (the node
    is built)."""
    tree = getattr(call, "_tree", None)
    if tree is None or not call.args:
        return None
    text = tree.line_text(call)
    if text is None:
        return _one_per_line(tree, call, f"{keyword}={value_text}")
    if not text.endswith(")") or text[-2] in " \t,\\":
        return None
    if len(call.args) >= 2 and tree.line_text(call.args[-2], call.args[-1]) != ", ":
        return None
    return f"{text[:-1]}, {keyword}={value_text})"


_BLANK = frozenset(" \t")


def _one_per_line(tree, call: cst.Call, new_argument: str) -> str | None:
    call_bounds, last = tree.bounds(call), tree.bounds(call.args[-1])
    before = tree.bounds(call.args[-2] if len(call.args) >= 2 else call.func)
    if call_bounds is None or last is None or before is None:
        return None
    code = tree.text(*call_bounds)
    if "#" in code or "\\" in code or "\r" in code:
        return None
    opening = tree.text(before[1], last[0])  # "(\n<indent>" or ",\n<indent>"
    closing = tree.text(last[1], call_bounds[1])  # "\n<indent>)" or ",\n<indent>)"
    if opening[:2] not in ("(\n", ",\n") or (opening[0] == "(") != (len(call.args) == 1):
        return None
    trailing = closing.startswith(",")
    indent, outdent = opening[2:], closing[2 if trailing else 1: -1]
    if not closing.startswith(",\n" if trailing else "\n") or not set(indent + outdent) <= _BLANK:
        return None
    head = code[: len(code) - len(closing)]
    return f"{head},\n{indent}{new_argument}{',' if trailing else ''}\n{outdent})"


def _without_comment(comma: cst.Comma) -> cst.Comma:
    """A copy of a separator without the comment it may carry (a comment is not repeated)."""
    after = comma.whitespace_after
    if isinstance(after, cst.ParenthesizedWhitespace) and (after.first_line.comment is not None or after.empty_lines):
        after = after.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
        return comma.with_changes(whitespace_after=after)
    return comma
