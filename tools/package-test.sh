#!/usr/bin/env bash
# The package test (issue 12): packs EMANet.Gen, EMANet.Gen.Training and the emanet tool into a folder feed, then, OUTSIDE the
# repository, does what README "Use it in your own project" tells a user to do:
#   1. a new console project that references only EMANet.Gen from that feed (plus the usual registry) and declares its own network
#      (tools/package-test/StreetNet.cs, Program.cs: the README's listing) builds with zero warnings (-warnaserror) and runs a
#      forward pass on this machine (Debian 12: the package's build targets must make libLibTorchSharp load), printing the shape;
#      its bin holds only the linux-x64 natives;
#   2. `dotnet tool install --tool-path` of the emanet tool from the feed, then `emanet cost emanet-tiny`.
# Any failure fails the script (and .ci/run). Each run packs a unique version (0.x.y-ci.<time>) and restores into its own
# NUGET_PACKAGES, so that no cached package of an earlier run can stand in for the one just packed; the machine's NuGet cache is a
# read-only fallback folder, so TorchSharp's natives are not downloaded again.
# Usage: bash tools/package-test.sh [WORK_DIR]   (default: a new temporary folder, removed at the end unless KEEP=1)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

work=${1:-$(mktemp -d "${TMPDIR:-/tmp}/emanet-package-test.XXXXXX")}
mkdir -p "$work"
work=$(cd "$work" && pwd)
case "$work/" in "$repo"/*) echo "package-test: $work is inside the repository; give a folder outside it" >&2; exit 2 ;; esac
[[ ${KEEP:-0} == 1 ]] || trap 'rm -rf "$work"' EXIT
machine_cache=${NUGET_PACKAGES:-$HOME/.nuget/packages}
feed=$work/feed
suffix=ci.$(date -u +%Y%m%d%H%M%S)
step() { echo; echo "== package-test: $*"; }

step "pack into $feed (version suffix $suffix)"
dotnet build "$repo/EMANet.Gen.sln" -c Release -nologo -v:q
dotnet pack "$repo/EMANet.Gen.sln" -c Release --no-build -nologo -v:q -o "$feed" -p:VersionSuffix="$suffix"
version=$(cd "$feed" && ls EMANet.Gen.*.nupkg | grep -v Training | sed -E 's/^EMANet\.Gen\.(.*)\.nupkg$/\1/')
for package in "EMANet.Gen.$version.nupkg" "EMANet.Gen.Training.$version.nupkg" "emanet.$version.nupkg"; do
  [[ -f $feed/$package ]] || { echo "package-test: $package was not made; the feed holds: $(ls "$feed")" >&2; exit 1; }
done
gen_files=$(unzip -l "$feed/EMANet.Gen.$version.nupkg")
grep -q "analyzers/dotnet/cs/EMANet.Generator.dll" <<<"$gen_files" || { echo "package-test: EMANet.Gen has no analyzers/dotnet/cs/EMANet.Generator.dll" >&2; exit 1; }
feed_files=$(ls "$feed")
if grep -qiv -E '^(EMANet\.Gen|EMANet\.Gen\.Training|emanet)\.' <<<"$feed_files"; then
  echo "package-test: unexpected packages (samples, tests, benchmarks and tools are not packed): $(ls "$feed")" >&2; exit 1
fi

# Nothing of the repository (or of a parent folder) may leak into the user's project: stop MSBuild's upward search here.
for file in Directory.Build.props Directory.Build.targets Directory.Packages.props; do echo "<Project />" > "$work/$file"; done
cat > "$work/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="emanet-feed" value="$feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
  <fallbackPackageFolders>
    <add key="machine-cache" value="$machine_cache" />
  </fallbackPackageFolders>
</configuration>
XML
export NUGET_PACKAGES=$work/nuget-packages

step "a user's project: dotnet new console, add EMANet.Gen $version, declare a network"
cd "$work"
dotnet new console -n MySegmenter -o MySegmenter --no-restore >/dev/null
cd MySegmenter
dotnet add package EMANet.Gen --version "$version" >/dev/null
cp "$repo/tools/package-test/StreetNet.cs" "$repo/tools/package-test/Program.cs" .
grep -q '<PackageReference Include="EMANet.Gen" Version="'"$version"'"' MySegmenter.csproj \
  || { echo "package-test: dotnet add package did not reference EMANet.Gen $version:" >&2; cat MySegmenter.csproj >&2; exit 1; }
if grep -q "ProjectReference\|Training" MySegmenter.csproj; then echo "package-test: the project must reference only EMANet.Gen" >&2; exit 1; fi

step "build with zero warnings"
dotnet build -c Release -nologo -warnaserror 2>&1 | tee "$work/build.log"
if grep -qE "warning [A-Z]+[0-9]+" "$work/build.log"; then echo "package-test: the build printed warnings" >&2; exit 1; fi
natives=$(ls bin/Release/net10.0/runtimes | tr '\n' ' ')
[[ $natives == "linux-x64 " ]] || { echo "package-test: expected only linux-x64 natives in bin, found: $natives" >&2; exit 1; }
echo "bin: $(du -sh bin/Release/net10.0 | cut -f1), natives: $natives"

step "run: a forward pass"
output=$(dotnet run -c Release --no-build 2>&1) || { echo "$output" >&2; echo "package-test: the program failed" >&2; exit 1; }
echo "$output"
grep -qx "forward: 1x5x97x97" <<<"$output" || { echo "package-test: expected 'forward: 1x5x97x97'" >&2; exit 1; }

step "the emanet tool: dotnet tool install --tool-path, emanet cost emanet-tiny"
cd "$work"
dotnet tool install emanet --version "$version" --tool-path "$work/tools" --configfile "$work/nuget.config"
cost=$("$work/tools/emanet" cost emanet-tiny 2>&1) || { echo "$cost" >&2; echo "package-test: emanet cost failed" >&2; exit 1; }
head -n 4 <<<"$cost"
grep -q "^emanet-tiny: input 3x129x129" <<<"$cost" || { echo "package-test: unexpected emanet cost output" >&2; exit 1; }
# The tool's own copy of libLibTorchSharp must carry the Debian fix (a weak GLIBCXX_3.4.32 requirement), or its first tensor fails.
library=$(find "$work/tools/.store" -name libLibTorchSharp.so -print -quit)
[[ -n $library ]] || { echo "package-test: the tool has no libLibTorchSharp.so" >&2; exit 1; }
others=$(find "$work/tools/.store" -path "*/runtimes/*" -maxdepth 8 -type d -name native | grep -v "/runtimes/linux-x64/native" || true)
[[ -z $others ]] || { echo "package-test: the tool carries other platforms' natives: $others" >&2; exit 1; }
versions=$(readelf -V "$library")
grep -q "Name: GLIBCXX_3.4.32  Flags: WEAK" <<<"$versions" || { echo "package-test: the tool's $library still requires GLIBCXX_3.4.32" >&2; exit 1; }

step "passed (EMANet.Gen $version)"
