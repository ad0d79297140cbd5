#!/usr/bin/env bash
# Installs everything the test suite needs (Python packages from this repo's own files, Neovim for the editor
# test) and runs the whole suite. `.ci/run` calls this script; the README documents it.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nvim >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq neovim >/dev/null) \
            || echo "warning: could not install neovim; the Neovim LSP test fails under CI and is skipped elsewhere" >&2
    fi
fi

python -m pip install --quiet --disable-pip-version-check -e ".[test]" -e "./examples/m2bert_mlx[test,fast-cpu]"
python -m pytest -q -p no:cacheprovider "$@"
