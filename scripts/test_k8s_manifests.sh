#!/usr/bin/env bash
# `jouleperf cluster k8s` manifests against the Kubernetes Job schema (issue 18,
# docs/cluster.md): the ConfigMap, the Indexed Job and the merge Job of a study are
# validated by kubernetes-models (the Kubernetes OpenAPI schema; scripts/fetch_k8s_schema.sh
# installs it) plus the fields the Indexed Job relies on; a manifest broken on purpose
# must fail the same check.
# Usage: scripts/test_k8s_manifests.sh JOULEPERF_BINARY WORK_DIR
# Exit 0: passed; 77: skipped (no node, or the schema packages cannot be installed); else failed.
set -euo pipefail
cli=$1
work=$2
root="$(cd "$(dirname "$0")/.." && pwd)"
modules_dir="$root/third_party/_k8s"
command -v node >/dev/null || { echo "SKIP: node is not installed (scripts/bootstrap.sh installs it)"; exit 77; }
if ! "$root/scripts/fetch_k8s_schema.sh" "$modules_dir" >"$work.fetch.log" 2>&1; then
  echo "SKIP: the schema packages could not be installed from the npm registry:"; cat "$work.fetch.log"; exit 77
fi
rm -rf "$work" && mkdir -p "$work"
cat >"$work/study.yaml" <<'YAML'
name: k8s-check
configs:
  - {name: h100, engine: sim, model: Llama-3.2-1B, settings: {hardware: h100-sxm}}
  - {name: gpu, engine: llamacpp, model: /models/llama-3.1-8b-q8_0.gguf}
inputs: [128, 512]
outputs: [32, 64]
batches: [1, 4, 16]
YAML
"$cli" cluster k8s "$work/study.yaml" --shards 6 --image registry.example/jouleperf:0.1 --gpus-per-task 1 \
  --concurrency 3 --namespace energy --results "$work/out" -- --sensor nvml >"$work/cluster.out"
validate() { node "$root/tests/k8s/validate_manifests.mjs" "$modules_dir/node_modules" "$@"; }
validate "$work"/out/jp-k8s-check.sweep.yaml "$work"/out/jp-k8s-check.merge.yaml
# The check can fail: a manifest broken on purpose is refused.
sed 's/completionMode: Indexed/completionMode: Indexd/' "$work/out/jp-k8s-check.sweep.yaml" >"$work/broken.yaml"
if validate "$work/broken.yaml" >"$work/broken.out"; then
  echo "FAIL: a Job with completionMode Indexd passed the schema check"; exit 1
fi
grep -q 'completionMode must be equal to one of the allowed values' "$work/broken.out" || {
  echo "FAIL: the broken manifest failed for another reason:"; cat "$work/broken.out"; exit 1; }
echo "PASS: the ConfigMap, the Indexed Job and the merge Job match the Kubernetes schema"
