#!/usr/bin/env bash
# The packages as an npm user gets them: every public workspace packed, its tarball linted
# (publint, @arethetypeswrong/cli), then installed with a plain `npm install` into a fresh
# project outside the repository, where a strict TypeScript program (ESM and CJS) compiles
# against them and runs, and the installed `mllm` command trains the tiny config, exports it
# to ONNX and evaluates the export.
#
#   bash tools/consumer-test.sh          (KEEP_CONSUMER=1 keeps the temp folder to look at)
#
# The install deliberately runs without the repository's .npmrc and without
# ONNXRUNTIME_NODE_INSTALL_CUDA: it proves that a user's plain install works, including on a
# Linux x64 machine where onnxruntime-node's CUDA download cannot reach GitHub.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/mllm-consumer.XXXXXX")"
case "$work/" in "$root"/*) echo "consumer-test: the temp folder $work is inside the repository; set TMPDIR elsewhere" >&2; exit 1 ;; esac
if [ -n "${KEEP_CONSUMER:-}" ]; then echo "consumer-test: keeping $work"; else trap 'rm -rf "$work"' EXIT; fi
step() { printf '\n== consumer-test: %s (%ss)\n' "$1" "$SECONDS"; }
fail() { echo "consumer-test: $*" >&2; exit 1; }

cd "$root"
step 'build'
NX_DAEMON=false npx nx run-many -t build --output-style=static > "$work/build.log" 2>&1 || { cat "$work/build.log"; fail 'build failed'; }

step 'pack every public package'
mkdir "$work/tarballs"
public=$(node -e '
  const { readFileSync, readdirSync, existsSync } = require("node:fs");
  for (const base of ["packages", "apps"])
    for (const name of readdirSync(base)) {
      const file = `${base}/${name}/package.json`;
      if (existsSync(file) && !JSON.parse(readFileSync(file, "utf8")).private) console.log(`${base}/${name}`);
    }')
for dir in $public; do
  tarball=$(cd "$dir" && npm pack --silent --pack-destination "$work/tarballs" | tail -n 1)
  contents=$(tar tzf "$work/tarballs/$tarball")
  for want in package/LICENSE package/README.md package/dist/; do
    grep -q "^$want" <<< "$contents" || fail "$tarball has no ${want#package/} ($dir)"
  done
  echo "$tarball ($(wc -l <<< "$contents") files)"
done

step 'publint and @arethetypeswrong/cli on each tarball'
for tarball in "$work"/tarballs/*.tgz; do
  name=$(basename "$tarball")
  "$root/node_modules/.bin/publint" run --strict "$tarball" > "$work/publint.log" 2>&1 || { cat "$work/publint.log"; fail "publint: $name"; }
  # node16: Node's own ESM and CJS resolution (plus bundlers), the two builds every package ships
  "$root/node_modules/.bin/attw" "$tarball" --profile node16 --format ascii > "$work/attw.log" 2>&1 || { cat "$work/attw.log"; fail "attw: $name"; }
  echo "$name: publint and attw clean"
done

typescript=$(node -p 'require("typescript/package.json").version')
(
  # what a user's shell has: none of the repository's npm settings, no CUDA-skip variable
  while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep -Ei '^(npm_|INIT_CWD$|ONNXRUNTIME_NODE_INSTALL)')
  app="$work/app"
  mkdir "$app" && cd "$app"

  step "npm install of the tarballs into $app"
  npm init -y > /dev/null
  npm install --no-audit --no-fund "$work"/tarballs/*.tgz "typescript@$typescript" '@types/node@20' 2>&1 | tail -n 20
  [ -d node_modules/onnxruntime-node ] && echo 'onnxruntime-node: installed' || echo 'onnxruntime-node: not installed (its postinstall failed, so npm dropped the optional package; @mllm/onnx runs on onnxruntime-web)'

  step 'strict TypeScript (module nodenext) against the installed packages'
  cp "$root"/tools/consumer/{main.mts,main.cts,tsconfig.json} .
  # tfjs's own .d.ts files are not strict-clean; every error outside them fails the test
  npx tsc -p tsconfig.json --pretty false > tsc.log 2>&1 || true
  ours=$(grep 'error TS' tsc.log | grep -Ev '^node_modules/' || true)
  ours+=$(grep -E '^node_modules/@mllm/.*error TS' tsc.log || true)
  [ -z "$ours" ] || fail "TypeScript errors in the program or in @mllm's types:"$'\n'"$ours"
  [ -f dist/main.mjs ] && [ -f dist/main.cjs ] || { cat tsc.log; fail 'tsc wrote no output'; }

  step 'the compiled programs: CJS, then ESM (run, openRun, answer on the tiny config)'
  cp "$root/configs/tiny.json" tiny.json
  node dist/main.cjs
  node dist/main.mjs tiny.json "$work/library-run"
  [ -f "$work/library-run/report.json" ] || fail 'run() wrote no report.json'

  step 'the installed mllm command'
  npx mllm --help > /dev/null || fail 'npx mllm --help failed'
  version=$(node -p 'require("@mllm/cli/package.json").version')
  printed=$(npx mllm --version) || fail 'npx mllm --version failed'
  grep -qF "$version" <<< "$printed" || fail "npx mllm --version printed \"$printed\", not the installed version $version"
  echo "mllm --version: $printed"
  npx mllm run tiny.json --out "$work/cli-run" 2>&1 | tail -n 3
  [ -f "$work/cli-run/report.json" ] || fail 'npx mllm run wrote no report.json'
  echo "report.json: $(node -p "const r = require('$work/cli-run/report.json'); \`\${r.stages.length} stages on \${r.backend}\`")"

  step 'ONNX export of that run, evaluated on whichever onnxruntime the install got'
  npx mllm export --checkpoint "$work/cli-run" --out "$work/onnx" 2>&1 | tail -n 1
  npx mllm eval --runtime onnx --model "$work/onnx" 2>&1 | tail -n 3
  [ -f "$work/onnx/eval-onnx.json" ] || fail 'npx mllm eval --runtime onnx wrote no eval-onnx.json'
)
step 'passed'
