#!/usr/bin/env bash
# Install the Debian packages the PDF edition and the browser check need, when missing.
# TeX Live (LaTeX builder of Jupyter Book), poppler (pdftotext/pdftoppm for the PDF test)
# and Chromium (headless check of the HTML report).  Run as root, or via sudo.
set -euo pipefail
packages=(texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended texlive-xetex
          latexmk lmodern fonts-freefont-otf poppler-utils chromium)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
  echo "error: need root (or sudo) to install: ${missing[*]}" >&2; exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
