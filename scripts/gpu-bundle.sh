#!/usr/bin/env bash
# Packs scripts/gpu-run.ts for a GPU machine that has no npm: .gpu/ gets node (xz), the bundled script,
# and the packages it loads at run time (the `webgpu` package's Dawn for linux-x64, esbuild for the
# worker bundle). On that machine, from the repository root:
#   xz -dc .gpu/node.xz > /tmp/node && chmod +x /tmp/node && tar -xJf .gpu/modules.tar.xz && /tmp/node .gpu/gpu-run.mjs
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .gpu && mkdir -p .gpu
npx esbuild scripts/gpu-run.ts --bundle --platform=node --format=esm --packages=external --outfile=.gpu/gpu-run.mjs --log-level=warning
xz -T2 -6 -c "$(command -v node)" > .gpu/node.xz
tar -cJf .gpu/modules.tar.xz --exclude='node_modules/webgpu/dist/darwin-*' --exclude='node_modules/webgpu/dist/win32-*' \
  --exclude='node_modules/webgpu/dist/linux-arm64' node_modules/webgpu node_modules/debug node_modules/ms \
  node_modules/esbuild node_modules/@esbuild/linux-x64
ls -la .gpu
