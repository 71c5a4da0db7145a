#!/bin/bash
# Installs the web client for `make run` and the tests: converse.js from
# the npm registry at the version pinned in web/package.json and
# web/package-lock.json (`npm ci`), then web/site/, the directory
# http-static-dir names: web/index.html and the converse.js files the page
# loads (no source maps, no translations: the page is in English; a few
# megabytes, which each parley-c2s reads into memory). Does nothing when
# web/site/ is already there for the pinned version.
set -eu

cd "$(dirname "$0")/../web"

# the e2e workers each ask for it: one installs, the others wait for it
# (two npm ci at once in one node_modules fail each other)
exec 9>.install.lock
flock 9

want=$(sed -n 's/.*"converse.js": *"\([^"]*\)".*/\1/p' package.json)
stamp=site/.version
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
    [ ! index.html -nt site/index.html ]; then
	exit 0
fi
if ! command -v npm >/dev/null; then
	echo "webclient: npm is missing (scripts/deps.sh installs it)" >&2
	exit 1
fi
# the package only ships built files: no install scripts need to run
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
dist=node_modules/converse.js/dist
rm -rf site.new
mkdir -p site.new/dist
cp index.html site.new/
cp "$dist/converse.min.js" "$dist/converse.min.css" "$dist/emoji.json" \
    site.new/dist/
cp -r "$dist/images" "$dist/sounds" "$dist/webfonts" site.new/dist/
echo "$want" >"site.new/.version"
rm -rf site
mv site.new site
echo "webclient: converse.js $want in web/site"
