#!/usr/bin/env bash
# Installs what the browser tests of node/web need, from Debian's packages
# and the npm registry: Chromium (/usr/bin/chromium), fonts for Latin and
# Japanese text and emoji, Node.js with npm, and playwright-core as pinned in
# node/web/package-lock.json (into node/web/node_modules, which git ignores).
# Safe to run again; it installs only what is missing. `make run` needs none
# of this: the app itself has no build step.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=()
[ -x /usr/bin/chromium ] || pkgs+=(chromium)
command -v node >/dev/null || pkgs+=(nodejs)
command -v npm >/dev/null || pkgs+=(npm)
dpkg -s fonts-liberation >/dev/null 2>&1 || pkgs+=(fonts-liberation)
if ! dpkg -s fonts-noto-cjk >/dev/null 2>&1 && ! dpkg -s fonts-ipafont-gothic >/dev/null 2>&1; then
	pkgs+=(fonts-ipafont-gothic) # Japanese text in screenshots
fi
dpkg -s fonts-noto-color-emoji >/dev/null 2>&1 || pkgs+=(fonts-noto-color-emoji)

if [ ${#pkgs[@]} -gt 0 ]; then
	sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		if command -v sudo >/dev/null; then
			sudo=(sudo)
		else
			echo "setup.sh: need root or sudo to install: ${pkgs[*]}" >&2
			exit 1
		fi
	fi
	echo "setup.sh: installing ${pkgs[*]}"
	"${sudo[@]}" apt-get update -qq
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
fi

major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
	echo "setup.sh: playwright-core needs Node.js 20 or newer; this is $(node --version)" >&2
	exit 1
fi

# npm ci installs exactly the lock file's versions; skip it when they are
# already there.
want=$(node -p 'require("./package-lock.json").packages["node_modules/playwright-core"].version')
have=$(node -p 'try { require("./node_modules/playwright-core/package.json").version } catch { "" }')
if [ "$want" != "$have" ]; then
	npm ci --no-audit --no-fund
fi
echo "setup.sh: chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}'), node $(node --version), playwright-core $want"
