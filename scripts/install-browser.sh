#!/usr/bin/env bash
# Installs Debian's Chromium and ChromeDriver for the dashboard's browser tests, once.
# Idempotent: when /usr/bin/chromium answers, it does nothing. No tool downloads a browser of its own:
# Playwright for Python drives this Chromium through `executable_path` (tests/notify/browser).
set -euo pipefail

# Chinese text needs a CJK font, or screenshots show empty boxes.
if [ -x /usr/bin/chromium ] && /usr/bin/chromium --version >/dev/null 2>&1 \
  && { ! command -v fc-list >/dev/null 2>&1 || [ -n "$(fc-list :lang=zh 2>/dev/null | head -n 1)" ]; }; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-browser: no apt-get here; install Chromium so that /usr/bin/chromium exists" >&2
  echo "  (the browser tests are skipped without it)." >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
echo "installing Debian's chromium and chromium-driver ..." >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-noto-cjk >/dev/null
/usr/bin/chromium --version >&2
