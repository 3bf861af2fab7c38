#!/usr/bin/env bash
# The WGSL checks on whatever WebGPU adapter this machine has (a real GPU, or SwiftShader when
# VK_ICD_FILENAMES points at it): prints the adapter, runs the WGSL differential tests through the
# `webgpu` package (Dawn) in Node, then kiln's WGSL matmul GFLOP/s at 1024, 2048 and 4096.
# Installs nothing beyond `npm ci` (run only when node_modules is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
echo "VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-(unset: the system's Vulkan drivers)}"
KILN_WEBGPU=node npx vitest run test/targets/wgsl-ops.test.ts test/targets/wgsl-fused.test.ts test/targets/wgsl-models.test.ts
npx tsx bench/webgpu-matmul.ts --host node 1024 2048 4096
