"""``--format sarif``: a SARIF 2.1.0 log (GitHub code scanning, GitLab, Azure DevOps and most CI viewers read it).

Columns are counted in Unicode code points (``columnKind: unicodeCodePoints``), as emberlint counts them; each
result's ``partialFingerprints`` carries the line-move-proof key of ``emberlint.baseline``. In a notebook a result's
region counts lines of one cell's source and ``properties.cell`` names the cell (1-based, markdown cells count).
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

from emberlint import __version__
from emberlint.model import Edit, Finding
from emberlint.reporters import RenderOptions, Report

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/emberlint/emberlint"
_LEVEL = {"error": "error", "warning": "warning"}


def artifact_uri(path: str) -> str:
    """A URI reference for ``path``: ``file://`` for absolute paths, a relative reference otherwise."""
    pure = Path(path)
    if pure.is_absolute():
        return pure.as_uri()
    return quote(pure.as_posix())


def _rule_descriptor(rule) -> dict:
    docs = rule.docs() or rule.summary() or rule.NAME
    default = {"level": _LEVEL[rule.SEVERITY.value]} if rule.SEVERITY else {"enabled": False, "level": "error"}
    return {
        "id": rule.CODE,
        "name": rule.NAME,
        "shortDescription": {"text": rule.summary() or rule.NAME},
        "fullDescription": {"text": docs},
        "help": {"text": f"{docs}\n\nRun `emberlint explain {rule.CODE}` for examples."},
        "defaultConfiguration": default,
        "properties": {"family": rule.family(), "tags": ["numerics", rule.family()]},
    }


def _region(start, end) -> dict:
    region = {"startLine": start.line, "startColumn": start.column}
    if (end.line, end.column) > (start.line, start.column):
        region.update(endLine=end.line, endColumn=end.column)
    return region


def _replacement(edit: Edit) -> dict:
    deleted = {"startLine": edit.start.line, "startColumn": edit.start.column,
               "endLine": edit.end.line, "endColumn": edit.end.column}
    return {"deletedRegion": deleted, "insertedContent": {"text": edit.text}}


def _result(finding: Finding, rule_index: dict[str, int], fingerprints: dict[int, str]) -> dict:
    location = {"artifactLocation": {"uri": artifact_uri(finding.path)}, "region": _region(finding.start, finding.end)}
    result = {
        "ruleId": finding.code,
        "level": _LEVEL[finding.severity.value],
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": location}],
    }
    if finding.code in rule_index:
        result["ruleIndex"] = rule_index[finding.code]
    if id(finding) in fingerprints:
        result["partialFingerprints"] = {"emberlint/v1": fingerprints[id(finding)]}
    if finding.fix is not None and finding.fix.edits:
        result["fixes"] = [{
            "description": {"text": finding.fix.description or f"Fix {finding.code}"},
            "artifactChanges": [{
                "artifactLocation": {"uri": artifact_uri(finding.path)},
                "replacements": [_replacement(edit) for edit in finding.fix.edits],
            }],
        }]
        result["properties"] = {"fixSafe": finding.fix.safe}
    if finding.cell is not None:  # a notebook: the region counts lines of this cell's source
        result.setdefault("properties", {})["cell"] = finding.cell
    return result


def _notification(error) -> dict:
    location = {"artifactLocation": {"uri": artifact_uri(error.path)}}
    if error.line:
        location["region"] = {"startLine": error.line, "startColumn": error.column or 1}
    notification = {
        "level": "error",
        "message": {"text": f"{error.kind} error: {error.message}"},
        "locations": [{"physicalLocation": location}],
    }
    if error.code:
        notification["associatedRule"] = {"id": error.code}
    if error.cell is not None:
        notification["properties"] = {"cell": error.cell}
    return notification


def render(report: Report, options: RenderOptions) -> str:
    from emberlint.baseline import fingerprints_for
    from emberlint.registry import all_rules

    rules = sorted(all_rules(), key=lambda rule: rule.CODE)
    rule_index = {rule.CODE: index for index, rule in enumerate(rules)}
    fingerprints = fingerprints_for(report.findings, report.sources)
    run = {
        "tool": {"driver": {
            "name": "emberlint",
            "version": __version__,
            "semanticVersion": __version__,
            "informationUri": INFORMATION_URI,
            "rules": [_rule_descriptor(rule) for rule in rules],
        }},
        "columnKind": "unicodeCodePoints",
        "invocations": [{
            "executionSuccessful": not report.errors,
            "toolExecutionNotifications": [_notification(error) for error in report.errors],
        }],
        "results": [_result(finding, rule_index, fingerprints) for finding in report.findings],
    }
    log = {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
