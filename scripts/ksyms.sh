#!/usr/bin/env bash
# usage: ksyms.sh NM ELF > ksyms.S   (ELF may be absent: an empty table for the first link)
# Emits the kernel's text symbols sorted by address for panic backtraces (kernel/panic.c).
set -euo pipefail
nm=$1; elf=${2:-}
echo '	.section .ksyms, "a"'
echo '	.balign 8'
if [ -z "$elf" ]; then
  printf '\t.globl ksym_count, ksym_addrs, ksym_name_offs, ksym_names\nksym_count: .quad 0\nksym_addrs:\nksym_name_offs:\nksym_names: .byte 0\n'
  exit 0
fi
"$nm" -n "$elf" | awk 'BEGIN { n = 0 }

  $2 ~ /^[tT]$/ && $3 !~ /^\.L/ { addr[n] = $1; name[n] = $3; n++ }
  END {
    printf "\t.globl ksym_count, ksym_addrs, ksym_name_offs, ksym_names\n"
    printf "ksym_count: .quad %d\nksym_addrs:\n", n
    for (i = 0; i < n; i++) printf "\t.quad 0x%s\n", addr[i]
    printf "ksym_name_offs:\n"
    off = 0
    for (i = 0; i < n; i++) { printf "\t.long %d\n", off; off += length(name[i]) + 1 }
    printf "ksym_names:\n"
    for (i = 0; i < n; i++) printf "\t.asciz \"%s\"\n", name[i]
  }'
