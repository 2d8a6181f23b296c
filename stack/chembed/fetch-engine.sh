#!/bin/sh
# fetch-engine.sh downloads the chDB engine library (libchdb.so) that
# stack/chembed serves as an embedded ClickHouse server, verifies it against
# a pinned hash, and installs it into the per-user cache.
#
# Environment:
#   DATAMAP_CHDB_INTEGRITY  npm dist.integrity (sha512-...) for platforms whose
#                           hash is not pinned below.
#   XDG_CACHE_HOME          cache root on Linux (default ~/.cache).
set -eu

VERSION=26.7.3-stable.1

os=$(uname -s)
arch=$(uname -m)
case "$os/$arch" in
Linux/x86_64 | Linux/amd64)
	platform=linux-x64
	pkg=@chdb/lib-linux-x64-gnu
	pinned='sha512-XP97mMqnc5tZpKQywR8N7cLTsHNiTmHr30pC5mzo3jWmukjKn2IBa60c2B/gWUNcuFjOMjWoorQICCqBVj5wpw=='
	;;
Linux/aarch64 | Linux/arm64)
	platform=linux-arm64
	pkg=@chdb/lib-linux-arm64-gnu
	pinned=''
	;;
Darwin/arm64)
	platform=darwin-arm64
	pkg=@chdb/lib-darwin-arm64
	pinned=''
	;;
Darwin/x86_64)
	platform=darwin-x64
	pkg=@chdb/lib-darwin-x64
	pinned=''
	;;
*)
	echo "fetch-engine: no chDB engine build for $os/$arch; set DATAMAP_CLICKHOUSE_DSN to use an external ClickHouse" >&2
	exit 1
	;;
esac

if [ "$os" = Darwin ]; then
	cache_root="$HOME/Library/Caches"
else
	cache_root="${XDG_CACHE_HOME:-$HOME/.cache}"
fi
dest_dir="$cache_root/datamap/chdb/$VERSION/$platform"
dest="$dest_dir/libchdb.so"

if [ -f "$dest" ]; then
	echo "fetch-engine: engine already installed at $dest"
	exit 0
fi

expected="${DATAMAP_CHDB_INTEGRITY:-$pinned}"
if [ -z "$expected" ]; then
	cat >&2 <<MSG
fetch-engine: no integrity hash is pinned for $pkg@$VERSION ($platform).
Refusing to run unverified code. Look up the published hash with
    npm view $pkg@$VERSION dist.integrity
check it against a source you trust, then run
    DATAMAP_CHDB_INTEGRITY='sha512-...' $0
MSG
	exit 1
fi
case "$expected" in
sha512-*) ;;
*)
	echo "fetch-engine: DATAMAP_CHDB_INTEGRITY must be an npm sha512 integrity string (sha512-...)" >&2
	exit 1
	;;
esac

for tool in npm tar openssl; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "fetch-engine: '$tool' is required but not installed" >&2
		exit 1
	fi
done

mkdir -p "$dest_dir"
# The temp dir lives next to the destination so the final mv is a rename
# within one file system, which is atomic: concurrent runs never see a
# half-written library.
tmp=$(mktemp -d "$dest_dir/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

echo "fetch-engine: downloading $pkg@$VERSION (about 180 MB)"
(cd "$tmp" && npm pack --silent "$pkg@$VERSION" >/dev/null)
tarball=$(ls "$tmp"/*.tgz 2>/dev/null | head -n 1)
if [ -z "$tarball" ]; then
	echo "fetch-engine: npm pack produced no tarball" >&2
	exit 1
fi

echo "fetch-engine: verifying integrity"
actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | openssl base64 -A)"
if [ "$actual" != "$expected" ]; then
	echo "fetch-engine: integrity mismatch for $pkg@$VERSION" >&2
	echo "  expected $expected" >&2
	echo "  got      $actual" >&2
	exit 1
fi

echo "fetch-engine: extracting libchdb.so"
tar -xzf "$tarball" -C "$tmp" package/libchdb.so
chmod 0755 "$tmp/package/libchdb.so"
mv -f "$tmp/package/libchdb.so" "$dest"
echo "fetch-engine: engine installed at $dest"
