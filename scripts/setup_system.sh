#!/usr/bin/env bash
# Debian packages opsnb needs: CJK fonts for Chinese chart text and PDF export, Chromium for the browser tests
# and `opsnb export`,
# PostgreSQL's server programs (the warehouse tests start their own cluster) and a Java runtime (Spark).
set -euo pipefail
need=()
fc-list 2>/dev/null | grep -i "Noto Sans CJK" >/dev/null || need+=(fonts-noto-cjk)  # (grep -q + pipefail: SIGPIPE)
# a TrueType CJK font for PDF export: Chromium embeds it as a real font with searchable Chinese
# (Noto CJK is CFF and prints as Type3 glyphs that read back as Kangxi radicals)
fc-list : family 2>/dev/null | grep -i "WenQuanYi Micro Hei" >/dev/null || need+=(fonts-wqy-microhei)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null 2>&1 || need+=(postgresql)
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "opsnb: please install ${need[*]} (a CJK font, Chromium, PostgreSQL, a Java runtime) with your system's package manager" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "opsnb: run as root or install: apt-get install ${need[*]}" >&2; exit 0; fi
fi
echo "opsnb: installing ${need[*]} …"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# matplotlib's font cache may predate the font: drop it so the new font is found.
rm -f ~/.cache/matplotlib/fontlist-*.json
