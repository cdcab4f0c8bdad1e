#!/usr/bin/env bash
# The test command of README.md: builds everything (warnings are errors in the product projects) and runs the xunit suite.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build EMANet.Gen.sln -c Release
dotnet test Tests/Tests.csproj -c Release --no-build
