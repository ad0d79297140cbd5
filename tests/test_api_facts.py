"""The YAML tables of API facts under rules/: every one loads through the typed loader and has its declared shape;
a table that does not gets an error naming the file and the path of the value."""

from __future__ import annotations

from pathlib import Path

import pytest

import emberlint.rules
from emberlint.api_facts import TABLES, Constructor, FactTableError, check_shape, load_table, parse_table

RULES_DIR = Path(emberlint.rules.__file__).parent


def test_every_yaml_table_has_a_declared_shape():
    assert sorted(p.stem for p in RULES_DIR.glob("*.yaml")) == sorted(TABLES)


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_table_loads_with_its_shape(name):
    table = load_table(name)
    assert isinstance(table, dict) and table
    check_shape(table, TABLES[name], name)  # load_table checked it already; this must not raise either


def test_known_facts_are_where_the_rules_read_them():
    assert load_table("operators")["binary"]["Multiply"] == {"mlx": "multiply", "torch": "mul"}
    assert load_table("constructors")["constructors"]["mlx.core.array"]["position"] == 1
    assert load_table("coach")["fft"]["default_norm"] == "backward"


@pytest.mark.parametrize(
    "name,text,message",
    [
        ("python_scalars", "math_methods: [sqrt, 3]\n", "rules/python_scalars.yaml: math_methods[1]: expected str, got 3 (int)"),
        ("python_scalars", "{}\n", "rules/python_scalars.yaml: missing 'math_methods'"),
        ("python_scalars", "math_methods: []\nmath_method: []\n", "rules/python_scalars.yaml: unknown 'math_method'"),
        ("python_scalars", "math_methods: sqrt\n", "math_methods: expected a list of str, got 'sqrt' (str)"),
        ("python_scalars", "math_methods: [sqrt\n", "rules/python_scalars.yaml: not valid YAML"),
        (
            "operators",
            "binary: {Add: {mlx: add}}\naugmented: {}\nunary: {}\nsymbols: {}\n",
            "rules/operators.yaml: binary.Add: missing 'torch'",
        ),
        (
            "exempt_apis",
            '"*": [axis]\nmlx.core.sum: [1, 2.5]\n',
            "rules/exempt_apis.yaml: ['mlx.core.sum'][1]: expected int or str, got 2.5 (float)",
        ),
    ],
)
def test_a_table_of_the_wrong_shape_is_a_clear_error(name, text, message):
    with pytest.raises(FactTableError) as error:
        parse_table(name, text)
    assert message in str(error.value)


def test_optional_keys_and_bools_that_are_not_ints():
    check_shape({"position": None, "default": "float"}, Constructor, "c")
    check_shape({"position": 0, "data": [[0, "val"]]}, Constructor, "c")
    with pytest.raises(FactTableError, match=r"c.position: expected int or None, got True \(bool\)"):
        check_shape({"position": True}, Constructor, "c")
    with pytest.raises(FactTableError, match="c: missing 'position'"):
        check_shape({"default": "float"}, Constructor, "c")


def test_an_unknown_table_is_an_error():
    with pytest.raises(FactTableError, match="no fact table named 'nope'"):
        load_table("nope")
