#!/bin/sh
# Rebuilds the modern Emscripten programs from src/ with Debian's emscripten (3.1.6:
# `apt-get install emscripten node-acorn`) and records the reference output of each by
# running emcc's own JavaScript glue under node. Usage: sh build.sh [NAME...]
set -eu
cd "$(dirname "$0")"
export NODE_PATH="${NODE_PATH:-/usr/share/nodejs}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
flags="-O2 -sEXIT_RUNTIME=1"
names="${*:-$(ls src | sed -n 's/\.\(c\|cpp\)$//p')}"
for name in $names; do
  src=$(ls src/"$name".c src/"$name".cpp 2>/dev/null | head -n 1)
  extra=""
  case "$name" in
    exceptions*) extra="-sDISABLE_EXCEPTION_CATCHING=0" ;;
    malloc_growth) extra="-sALLOW_MEMORY_GROWTH=1" ;;
    # Wasm exception handling (the legacy try/catch instructions) instead of JavaScript's.
    wasm_exceptions_std) extra="-fwasm-exceptions -std=c++17 -sALLOW_MEMORY_GROWTH=1" ;;
    wasm_exceptions*) extra="-fwasm-exceptions -std=c++17" ;;
    wasm_longjmp_exceptions) extra="-fwasm-exceptions -sSUPPORT_LONGJMP=wasm" ;;
    wasm_longjmp*) extra="-sSUPPORT_LONGJMP=wasm" ;;
  esac
  case "$src" in *.cpp) cc=em++ ;; *) cc=emcc ;; esac
  $cc $flags $extra "$src" -o "$tmp/$name.js"
  cp "$tmp/$name.wasm" "$name.wasm"
  args=""
  [ -f "src/$name.args" ] && args=$(cat "src/$name.args")
  set +e
  (cd "$tmp" && node --no-experimental-fetch "$name.js" $args < /dev/null > "$tmp/$name.out" 2> /dev/null)
  code=$?
  set -e
  cp "$tmp/$name.out" "$name.out"
  if [ "$code" != 0 ]; then echo "$code" > "$name.exit"; else rm -f "$name.exit"; fi
  [ -f "src/$name.args" ] && cp "src/$name.args" "$name.args"
  echo "$name: exit $code, $(wc -c < "$name.wasm") bytes"
done
