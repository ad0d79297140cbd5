"""Robustness (issue 7): no input crashes `emberlint check` or `lint_source`, a crashing rule is reported and the
run goes on, the fast traversal gives exactly LibCST's answers, and the result cache is safe."""

from __future__ import annotations

import json
import random
import threading
from pathlib import Path

import hypothesmith
import libcst as cst
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emberlint import registry
from emberlint.cache import ResultCache, entry_key, result_from_json, result_to_json
from emberlint.check_command import check
from emberlint.config import Config
from emberlint.engine import lint_source
from emberlint.rule import Rule
from emberlint.runner import Target, lint_target
from emberlint.walk import children, walk

REPO = Path(__file__).resolve().parent.parent
STRICT = Config(profile="strict")
EL301 = Config(profile="strict", select=("EL301",))
SLOW = settings(max_examples=25, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def check_file(path: Path, config: Config = STRICT):
    result = lint_target(Target(str(path), config))
    assert all(error.kind in ("read", "parse", "internal") for error in result.errors)
    return result


# --- a crashing rule ---------------------------------------------------------------------------------------------

class CrashOnSecondCall(Rule):
    CODE = "EL999"
    NAME = "crash-on-second-call"
    MESSAGE = "never reported"
    SEVERITY = None

    def __init__(self, context) -> None:
        super().__init__(context)
        self.calls = 0

    def visit_Call(self, node: cst.Call) -> None:
        self.calls += 1
        if self.calls == 2:
            raise ZeroDivisionError("boom")


def test_a_crashing_rule_is_reported_with_its_location_and_the_run_goes_on(tmp_path, monkeypatch):
    original = registry.all_rules
    monkeypatch.setattr(registry, "all_rules", lambda: (*original(), CrashOnSecondCall))
    (tmp_path / "a.py").write_text("import mlx.core as mx\n\nx = mx.ones(3)\ny = mx.zeros(3) * 2\n")
    (tmp_path / "b.py").write_text("import mlx.core as mx\n\nz = mx.ones(3) * 2\n")
    result = CliRunner().invoke(check, ["--profile", "strict", "--format", "json", "--jobs", "1", "--no-cache",
                                        str(tmp_path)])
    assert result.exit_code == 2
    report = json.loads(result.output)
    crashes = [e for e in report["errors"] if e["kind"] == "internal"]
    assert [(Path(e["path"]).name, e["code"], e["line"], e["column"]) for e in crashes] == [("a.py", "EL999", 4, 5)]
    assert "ZeroDivisionError: boom" in crashes[0]["message"]
    # the other rules still ran on both files
    assert {Path(f["path"]).name for f in report["findings"] if f["code"] == "EL301"} == {"a.py", "b.py"}


# --- fast traversal and positions equal LibCST's ----------------------------------------------------------------

class _Events(cst.CSTVisitor):
    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []
        self.nodes: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.events.append(("visit", id(node)))
        self.nodes.append(node)
        return not isinstance(node, cst.Lambda)  # skipping children must be honoured too

    def on_leave(self, node: cst.CSTNode) -> None:
        self.events.append(("leave", id(node)))


def sample_sources(count: int = 12) -> list[Path]:
    files = sorted((REPO / "emberlint").glob("*.py")) + sorted((REPO / "examples").rglob("*.py"))
    return random.Random(7).sample(files, min(count, len(files)))


def assert_walk_matches(module: cst.Module) -> None:
    reference, fast = _Events(), _Events()
    module.visit(reference)
    walk(module, fast)
    assert fast.events == reference.events
    for node in fast.nodes[:300]:
        assert children(node) == list(node.children)


@pytest.mark.parametrize("path", sample_sources(), ids=lambda p: p.name)
def test_walk_equals_libcst_on_real_files(path):
    assert_walk_matches(cst.parse_module(path.read_text(encoding="utf-8")))


@SLOW
@given(hypothesmith.from_grammar())
def test_walk_equals_libcst_on_generated_source(source):
    try:
        module = cst.parse_module(source)
    except (cst.ParserSyntaxError, RecursionError):
        return
    assert_walk_matches(module)


# --- no crash on any input --------------------------------------------------------------------------------------

@SLOW
@given(hypothesmith.from_grammar())
def test_lint_source_never_raises_on_valid_python(source):
    result = lint_source("import mlx.core as mx\nimport torch\n" + source, "gen.py", STRICT)
    assert all(error.kind != "internal" for error in result.errors), result.errors


@SLOW
@given(st.binary(max_size=300))
def test_check_never_raises_on_arbitrary_bytes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("bytes") / "f.py"
    path.write_bytes(b"import torch\n" + data)
    check_file(path)


@pytest.mark.parametrize("construct", [
    lambda n: "(" * n + "1" + ")" * n,
    lambda n: "-" * n + "1",
    lambda n: "1+" * n + "1",
    lambda n: "x" + ".y" * n,
    lambda n: "f" + "()" * n,
])
@pytest.mark.parametrize("depth", [150, 990, 20000])
def test_deep_nesting_is_a_clean_error(tmp_path, construct, depth):
    source = f"import torch\nx = torch.ones(2) * {construct(depth)}\n"
    result = lint_source(source, "deep.py", EL301)
    messages = [e.message for e in result.errors]
    if depth == 150:
        assert messages == [] and "EL301" in {f.code for f in result.findings}
    elif depth == 20000:
        assert messages == ["too deeply nested to analyse"]
    else:  # within CPython's limits, maybe beyond the analyses': a clean error or a normal result
        assert messages in ([], ["too deeply nested to analyse"])
    path = tmp_path / "deep.py"
    path.write_text(source)
    assert [e.message for e in check_file(path, EL301).errors] == messages


@pytest.mark.parametrize("raw, error", [
    (b"import torch\nx = 1\x00\n", "NUL bytes"),
    (b"import torch\nx = '\xff\xfe'\n", "cannot decode"),
    (b"# -*- coding: klingon -*-\nimport torch\n", "unknown encoding"),
])
def test_unreadable_files_are_read_errors(tmp_path, raw, error):
    path = tmp_path / "bad.py"
    path.write_bytes(raw)
    result = check_file(path)
    assert [e.kind for e in result.errors] == ["read"] and error in result.errors[0].message
    assert result.findings == []


BODY = "import torch\n\n\ndef f():\n\treturn torch.ones(2) * 2  # caf\u00e9\n"


@pytest.mark.parametrize("raw", [
    BODY.encode(),
    BODY.replace("\n", "\r\n").encode(),
    b"\xef\xbb\xbf" + BODY.encode(),
    ("# -*- coding: latin-1 -*-\n" + BODY).encode("latin-1"),
    ("# -*- coding: latin-1 -*-\r\n" + BODY.replace("\n", "\r\n")).encode("latin-1"),
], ids=["utf8", "crlf", "bom", "latin1", "latin1-crlf"])
def test_encodings_newlines_bom_and_tabs_give_the_same_finding(tmp_path, raw):
    path = tmp_path / "enc.py"
    path.write_bytes(raw)
    result = check_file(path, EL301)
    assert result.errors == []
    line = 6 if raw.startswith(b"# -*-") else 5
    assert [(f.code, f.start.line, f.start.column) for f in result.findings] == [("EL301", line, 9)]


def test_huge_line_is_linted(tmp_path):
    path = tmp_path / "huge.py"
    path.write_text("import torch\nx = [" + "1, " * 20_000 + "]\ny = torch.ones(2) * 2\n")
    result = check_file(path, EL301)
    assert result.errors == [] and [(f.code, f.start.line) for f in result.findings] == [("EL301", 3)]


# --- the result cache -------------------------------------------------------------------------------------------

def run_check(*args: str):
    result = CliRunner().invoke(check, ["--profile", "strict", "--format", "json", "--jobs", "1", *args])
    return result.exit_code, json.loads(result.output)


def test_cache_answers_an_unchanged_file_and_recomputes_a_changed_one(tmp_path, monkeypatch):
    cache_dir = tmp_path / "cache"
    monkeypatch.setenv("EMBERLINT_CACHE_DIR", str(cache_dir))
    source = tmp_path / "m.py"
    source.write_text("import mlx.core as mx\n\ny = mx.ones(3) * 2\n")
    first = run_check(str(source))
    entries = list(cache_dir.rglob("*.json"))
    assert len(entries) == 1 and (cache_dir / ".gitignore").read_text().endswith("*\n")
    # a planted entry proves the second run reads the cache instead of linting
    data = json.loads(entries[0].read_text())
    data["findings"][0]["message"] = "from the cache"
    entries[0].write_text(json.dumps(data))
    assert run_check(str(source))[1]["findings"][0]["message"] == "from the cache"
    assert run_check("--no-cache", str(source)) == first
    source.write_text("import mlx.core as mx\n\ny = mx.ones(3) * 3\n")
    changed = run_check(str(source))
    assert changed[1]["findings"][0]["message"] != "from the cache" and len(list(cache_dir.rglob("*.json"))) == 2
    entries[0].write_text("{not json")  # a torn or corrupt entry is a miss
    source.write_text("import mlx.core as mx\n\ny = mx.ones(3) * 2\n")
    assert run_check(str(source)) == first


def test_no_cache_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBERLINT_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "m.py").write_text("import torch\nx = torch.ones(2) * 2\n")
    run_check("--no-cache", str(tmp_path / "m.py"))
    assert not (tmp_path / "cache").exists()


def test_cache_key_depends_on_bytes_path_and_config():
    keys = {entry_key(b"x = 1\n", "a.py", STRICT), entry_key(b"x = 2\n", "a.py", STRICT),
            entry_key(b"x = 1\n", "b.py", STRICT), entry_key(b"x = 1\n", "a.py", Config())}
    assert len(keys) == 4


def test_parallel_writers_leave_whole_entries(tmp_path):
    result = lint_source("import torch\nx = torch.ones(2) * 2\n", "p.py", STRICT)
    cache = ResultCache(tmp_path)
    threads = [threading.Thread(target=lambda: [cache.put("ab" * 32, result) for _ in range(20)]) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache.get("ab" * 32, "p.py") == result
    assert [p.name for p in tmp_path.rglob("*") if p.is_file() and p.name != ".gitignore"] == ["ab" * 32 + ".json"]
    assert result_from_json("p.py", result_to_json(result)) == result


def test_files_without_a_backend_import_are_not_parsed(monkeypatch):
    def no_parsing(*args, **kwargs):
        raise AssertionError("parsed")

    import emberlint.engine

    monkeypatch.setattr(cst, "parse_module", no_parsing)
    monkeypatch.setattr(emberlint.engine, "parse_file", no_parsing)  # compiling for syntax errors is allowed
    assert lint_source("import os\n\nx = os.sep * 2\n", "plain.py", STRICT).findings == []
    # EL910 needs no backend, but without one it can only fire around a config loader or array code, and the
    # only array code such a file can hold is the forward of an ``nn``-like module.
    fallback = "import os\ntry:\n    x = os.cpu_count()\nexcept Exception:\n    x = 1\n"
    assert lint_source(fallback, "plain.py", STRICT).findings == []
    for near_miss in (fallback.replace("os.cpu_count()", "json.load(f)"), "from pkg import nn\n" + fallback):
        with pytest.raises(AssertionError):
            lint_source(near_miss, "plain.py", STRICT)


def test_deep_nesting_is_caught_under_a_raised_recursion_limit(monkeypatch):
    # Hypothesis raises the recursion limit while a test runs; the nesting guard must not relax with it, or
    # LibCST's parser would be handed code that overflows the C stack.
    import sys

    monkeypatch.setattr(sys, "getrecursionlimit", sys.getrecursionlimit)
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(20000)
    try:
        for depth in (5000, 20000):
            source = "import torch\nx = torch.ones(2) * x" + ".y" * depth + "\n"
            assert [e.message for e in lint_source(source, "deep.py", EL301).errors] == [
                "too deeply nested to analyse"
            ]
        assert sys.getrecursionlimit() == 20000
    finally:
        sys.setrecursionlimit(previous)
