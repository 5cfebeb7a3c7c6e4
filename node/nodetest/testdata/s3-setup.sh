#!/usr/bin/env bash
# Installs the S3-compatible server that the S3 blob store tests start
# (node/nodetest/s3.go, StartS3): versitygw (Versity S3 Gateway,
# Apache-2.0) with its posix backend, built from the Go module proxy at the
# version pinned below into the user cache directory, where the tests look
# for it: ${XDG_CACHE_HOME:-$HOME/.cache}/horenso/s3/versitygw, or
# $HORENSO_S3_SERVER if set. Safe to run again: it builds only when the
# binary is missing or of another version. Measured 2026-12-03: from a cold
# build cache, 167 s user + 30 s system CPU and 660 MB of memory (about 2
# minutes on 2 idle cores), plus downloading its modules; once per machine.
set -euo pipefail

version=v1.8.0
module=github.com/versity/versitygw/cmd/versitygw

bin=${HORENSO_S3_SERVER:-${XDG_CACHE_HOME:-$HOME/.cache}/horenso/s3/versitygw}
stamp="$bin.version"
if [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
	echo "s3-setup.sh: versitygw $version at $bin"
	exit 0
fi

echo "s3-setup.sh: building versitygw $version from the Go module proxy (a few minutes, once)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
# Outside this module (go install m@v ignores it anyway), with no flags of
# the caller's that could change the build.
(cd "$tmp" && GOFLAGS= GOBIN="$tmp/bin" go install -ldflags='-s -w' "$module@$version")
mkdir -p "$(dirname "$bin")"
mv "$tmp/bin/versitygw" "$bin"
echo "$version" >"$stamp"
echo "s3-setup.sh: versitygw $version at $bin (built in $(($(date +%s) - start))s)"
