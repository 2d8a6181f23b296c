#!/bin/sh
# vendor.sh fetches the front-end libraries the web data map embeds (and
# axe-core, which only the browser tests inject) from the npm registry at
# the exact versions in assets/vendor/VERSIONS, checks each package against
# the integrity hash recorded there, and copies the one file used.
# The copies are committed: building and testing datamap needs no npm.
#   make web-vendor            re-fetch and verify (fails on any mismatch)
set -eu
cd "$(dirname "$0")"
versions=assets/vendor/VERSIONS
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
grep -v '^#' "$versions" | while IFS='	' read -r pkg version integrity licence file dest sha256; do
	[ -n "$pkg" ] || continue
	echo "$pkg@$version"
	tgz=$(cd "$work" && npm pack --silent "$pkg@$version")
	got="sha512-$(openssl dgst -sha512 -binary "$work/$tgz" | base64 -w0)"
	if [ "$got" != "$integrity" ]; then
		echo "  integrity mismatch: registry gave $got, VERSIONS says $integrity" >&2
		exit 1
	fi
	mkdir -p "$work/$pkg"
	tar xzf "$work/$tgz" -C "$work/$pkg"
	cp "$work/$pkg/package/$file" "$dest"
	for lic in LICENSE LICENSE.txt LICENSE.md; do
		if [ -f "$work/$pkg/package/$lic" ]; then
			cp "$work/$pkg/package/$lic" "$(dirname "$dest")/$(echo "$pkg" | tr / -).LICENSE"
			break
		fi
	done
	have=$(sha256sum "$dest" | cut -d' ' -f1)
	if [ "$have" != "$sha256" ]; then
		echo "  $dest: sha256 $have, VERSIONS says $sha256 (a new version? update VERSIONS on purpose)" >&2
		exit 1
	fi
done
echo "vendored files match assets/vendor/VERSIONS"
