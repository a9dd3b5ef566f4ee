# Sourced by .ci/run (and usable by hand: `source scripts/bootstrap-node.sh`).
# Makes sure `node` is at least 22.12 and `pnpm` is 12.4.2 on PATH. When the machine's node is
# older, the `node@22` npm package is installed into a cache folder and put first on PATH; the
# system node is left untouched. Set POST_SCHEDULER_TOOLS to choose the cache folder.

tools="${POST_SCHEDULER_TOOLS:-$HOME/.cache/ps-node}"
pnpm_version="12.4.2"

node_is_recent() {
  command -v node >/dev/null 2>&1 &&
    node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 12) ? 0 : 1)'
}

if ! node_is_recent; then
  if [ -x "$tools/node_modules/.bin/node" ]; then
    export PATH="$tools/node_modules/.bin:$PATH"
  fi
  if ! node_is_recent; then
    echo "bootstrap: node $(node -v 2>/dev/null || echo 'missing') is older than 22.12; installing node@22 into $tools" >&2
    npm install --silent --no-fund --no-audit --prefix "$tools" node@22 >&2
    export PATH="$tools/node_modules/.bin:$PATH"
  fi
fi

if [ "$(pnpm -v 2>/dev/null)" != "$pnpm_version" ]; then
  if [ "$("$tools/node_modules/.bin/pnpm" -v 2>/dev/null)" != "$pnpm_version" ]; then
    echo "bootstrap: installing pnpm@$pnpm_version into $tools" >&2
    npm install --silent --no-fund --no-audit --prefix "$tools" "pnpm@$pnpm_version" >&2
  fi
  export PATH="$tools/node_modules/.bin:$PATH"
fi

echo "bootstrap: node $(node -v), pnpm $(pnpm -v)" >&2
