#!/usr/bin/env bash
# Builds and runs every host unit test (tests/unit/test_*.c). Each test file names the kernel sources
# it links on a line "unit-sources: a.c b.c". Prints each case and ends with "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${UNIT_OUT:-$top/build/unit}
mkdir -p "$out"
export EMBER_DTB=${EMBER_DTB:-$top/build/virt.dtb}
cc=${HOSTCC:-gcc}
cflags="-std=gnu11 -O1 -g -Wall -Wextra -Werror -Wno-unused-function -DHOST_TEST -I$top -I$top/include/uapi -fsanitize=address,undefined -fno-omit-frame-pointer"
passed=0; failed=0
for t in "$top"/tests/unit/test_*.c; do
  name=$(basename "$t" .c)
  srcs=$(sed -n 's/.*unit-sources:\(.*\)/\1/p' "$t" | head -1)
  files=()
  for s in $srcs; do files+=("$top/$s"); done
  if ! $cc $cflags -o "$out/$name" "$t" "$top/tests/unit/unit.c" "${files[@]}" 2>"$out/$name.log"; then
    cat "$out/$name.log"; echo "FAIL $name: does not build"; failed=$((failed + 1)); continue
  fi
  echo "== $name"
  "$out/$name" >"$out/$name.out" 2>&1; rc=$?
  cat "$out/$name.out"
  p=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$out/$name.out" | tail -1)
  f=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$out/$name.out" | tail -1)
  if [ -z "$p" ]; then echo "FAIL $name: crashed (exit $rc)"; failed=$((failed + 1)); continue; fi
  passed=$((passed + p)); failed=$((failed + f))
  [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && { echo "FAIL $name: exit $rc"; failed=$((failed + 1)); }
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
