#!/usr/bin/env bash
# Make sure a headless Chromium is on PATH for tests/e2e/test_docs_browser.py.
# Installs Debian's `chromium` package when it is missing and we are root with apt-get;
# otherwise says why not. Exit 0 when a browser is available, 1 when it is not.
set -euo pipefail

find_browser() {
  command -v chromium || command -v chromium-browser || command -v google-chrome || true
}

browser=$(find_browser)
if [[ -z "$browser" ]]; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "ensure-chromium: installing Debian's chromium package" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends chromium >/dev/null
    browser=$(find_browser)
  else
    echo "ensure-chromium: no chromium on PATH, and can't install it (needs root and apt-get)" >&2
    exit 1
  fi
fi
if [[ -z "$browser" ]]; then
  echo "ensure-chromium: chromium is still missing after apt-get install" >&2
  exit 1
fi
echo "ensure-chromium: $("$browser" --version 2>/dev/null || echo "$browser")" >&2
