#!/usr/bin/env bash
# Lists the undefined dynamic symbols of a native library (TorchSharp's libLibTorchSharp.so) that no
# shared library in a libtorch folder defines, demangled, with a count; exit 0 when none is missing.
# Symbols the C/C++ runtime provides (glibc, libstdc++, libgcc) are not libtorch's business and are
# left out by their version tag (GLIBC_*, GLIBCXX_*, CXXABI_*, GCC_*), and so are weak references
# (nm "w"), which the loader lets stay unresolved.
#   bash tools/gpu/check-symbols.sh path/to/libLibTorchSharp.so path/to/torch/lib
set -euo pipefail
library=${1:?native library}; folder=${2:?libtorch folder}
[[ -f $library ]] || { echo "no such library: $library" >&2; exit 2; }
[[ -d $folder ]] || { echo "no such folder: $folder" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
nm -D --undefined-only "$library" | awk '$1 == "U" {print $NF}' | grep -Ev '@(GLIBC|GLIBCXX|CXXABI|GCC)_' | sed 's/@.*//' | sort -u > "$tmp/needed"
for so in "$folder"/*.so*; do
  [[ -f $so ]] && nm -D --defined-only "$so" 2>/dev/null | awk '{print $NF}' | sed 's/@.*//'
done | sort -u > "$tmp/defined"
comm -23 "$tmp/needed" "$tmp/defined" > "$tmp/missing"
needed=$(wc -l < "$tmp/needed"); missing=$(wc -l < "$tmp/missing")
echo "$library: $needed undefined symbols outside the C/C++ runtime; $missing not defined in $folder"
c++filt < "$tmp/missing" | sed 's/^/  /'
(( missing == 0 ))
