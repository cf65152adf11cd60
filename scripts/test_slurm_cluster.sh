#!/usr/bin/env bash
# A real one-node Slurm cluster on 127.0.0.1 (issue 18, docs/cluster.md): munged, slurmctld
# and slurmd started here in the foreground with their own slurm.conf in a temporary
# directory (no systemd), stopped by PID at the end.
#  1. A hand-written 4-task job array runs `jouleperf sweep --shard auto` on the sim
#     engine, each task into its own store, and a merge job submitted with
#     --dependency=afterok runs after it; the merged store must equal an unsharded run of
#     the same grid cell for cell (keys, statuses, simulated energies).
#  2. `jouleperf cluster slurm --submit` runs a study of a sim and a llamacpp config (the
#     tiny synthetic model) as a 4-task array and its dependent merge: the merged store
#     equals an unsharded run (keys and statuses; simulated energies exactly).
#  3. The same with array index 2 cancelled mid-run (scancel): the merge job fails naming
#     the missing cells, `cluster missing` names index 2, and resubmitting index 2
#     (`cluster slurm --submit --only 2`) completes the study.
# Usage: scripts/test_slurm_cluster.sh JOULEPERF_BINARY WORK_DIR
# Exit 0: passed; 77: skipped (Slurm or munge not installed, or not root); else failed.
set -euo pipefail
cli=$1
work=$2
for b in munged slurmctld slurmd sbatch scontrol; do
  if ! command -v "$b" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$b" ]; then
    echo "SKIP: $b is not installed (Debian: apt-get install slurm-wlm munge; scripts/bootstrap.sh does)"
    exit 77
  fi
done
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: the one-node cluster runs its daemons as root"
  exit 77
fi
export PATH="$PATH:/usr/sbin"
rm -rf "$work" && mkdir -p "$work"/{state,spool,log,run}
work=$(cd "$work" && pwd)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

dd if=/dev/urandom of="$work/munge.key" bs=1024 count=1 2>/dev/null
chmod 400 "$work/munge.key"
munged -F --force --key-file="$work/munge.key" --socket="$work/run/munge.sock" --pid-file="$work/run/munged.pid" \
  --log-file="$work/log/munged.log" --seed-file="$work/run/seed" >"$work/log/munged.out" 2>&1 &
pids+=($!)

# Ports of our own (a cluster already on this machine keeps its own).
base=$((20000 + RANDOM % 20000))
node=$(hostname -s)
cat >"$work/slurm.conf" <<CONF
ClusterName=jouleperf-test
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$base
SlurmdPort=$((base + 1))
AuthType=auth/munge
AuthInfo=socket=$work/run/munge.sock
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/run/slurmctld.pid
SlurmdPidFile=$work/run/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=$node NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=1000 State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$work/slurm.conf"
for _ in $(seq 1 100); do [ -S "$work/run/munge.sock" ] && break; sleep 0.1; done
slurmctld -D -f "$SLURM_CONF" >"$work/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" >"$work/log/slurmd.out" 2>&1 &
pids+=($!)

# Polls a condition (the daemons' or the jobs' state), up to $1 seconds.
wait_for() {
  local limit=$1
  shift
  for _ in $(seq 1 $((limit * 5))); do
    if "$@"; then return 0; fi
    sleep 0.2
  done
  return 1
}
node_idle() { sinfo -h -n "$node" -o %t 2>/dev/null | grep -q '^idle'; }
if ! wait_for 60 node_idle; then
  echo "FAIL: the node never became idle"; tail -5 "$work"/log/*.log "$work"/log/*.out; exit 1
fi

grid="sweep --engine sim --model Llama-3.2-1B --setting hardware=h100-sxm -I 128,512 -B 1,4 -O 16,64 --reps 1 --warmup 0 --no-progress"
cat >"$work/array.sh" <<SH
#!/bin/bash
#SBATCH --array=0-3
#SBATCH --output=$work/task-%a.out
exec $cli $grid --shard auto --store "$work/results-{shard}.db"
SH
array=$(sbatch --parsable "$work/array.sh")
merge=$(sbatch --parsable --dependency="afterok:$array" --output="$work/merge.out" \
  --wrap "$cli merge $work/all.db $work/results-0.db $work/results-1.db $work/results-2.db $work/results-3.db")
echo "submitted array $array and merge $merge (afterok)"
jobs_done() { [ -z "$(squeue -h 2>/dev/null)" ]; }
if ! wait_for 300 jobs_done; then
  echo "FAIL: jobs still queued or running"; squeue; exit 1
fi
for i in 0 1 2 3; do
  grep -q "Slurm array task $i" "$work/task-$i.out" || { echo "FAIL: task $i did not take its shard from Slurm"; cat "$work/task-$i.out"; exit 1; }
done
grep -q "merged 4 store" "$work/merge.out" || { echo "FAIL: the merge job did not run"; cat "$work/merge.out"; exit 1; }

# The unsharded run of the same grid, and both stores' cells side by side.
$cli $grid --store "$work/whole.db" >/dev/null
table() { $cli report --store "$1" --table cells -o csv | sort; }
if ! diff <(table "$work/all.db") <(table "$work/whole.db") >"$work/diff.txt"; then
  echo "FAIL: the merged shards differ from the unsharded run:"; cat "$work/diff.txt"; exit 1
fi
echo "1 passed: $(table "$work/all.db" | wc -l) lines of cells equal; array $array, merge $merge"

# --- 2 and 3: jouleperf cluster slurm --submit, a sim and a llamacpp config ---
$cli model synth --preset tiny --type q8_0 --context 512 --out "$work/tiny.gguf" >/dev/null
write_study() {  # $1: file, $2: idle gap between cells, s
  cat >"$1" <<YAML
name: cluster-test
configs:
  - name: sim
    engine: sim
    model: Llama-3.2-1B
    settings: {hardware: h100-sxm}
  - name: cpu
    engine: llamacpp
    model: $work/tiny.gguf
    threads: 1
inputs: [8, 16]
outputs: [4, 24]
batches: [1, 2]
repetitions: 1
warmup: 0
idle_gap_s: $2
YAML
}
sweep_flags=(-- --sensor cpu-model --node-lock "$work/node.lock" --no-progress)
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
# keys and statuses of every cell; the whole row for the simulated ones
cells_of() {
  $cli report --store "$1" --table cells -o csv | python3 -c '
import csv, sys
rows = list(csv.DictReader(sys.stdin))
for r in sorted(rows, key=lambda r: (r["config"], int(r["input_tokens"]), int(r["output_tokens"]), int(r["batch"]))):
    keep = list(r.values()) if r["config"] == "sim" else [r[k] for k in ("config", "input_tokens", "output_tokens", "batch", "status")]
    print(",".join(keep))'
}
merge_state() { scontrol show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2; }

write_study "$work/study.yaml" 0
$cli sweep "$work/study.yaml" --store "$work/whole2.db" "${sweep_flags[@]:1}" >/dev/null 2>&1
out=$($cli cluster slurm "$work/study.yaml" --shards 4 --name jp-c2 --results "$work/c2" --submit -o json "${sweep_flags[@]}")
array=$(json_field array_job_id <<<"$out")
merge=$(json_field merge_job_id <<<"$out")
echo "2: cluster slurm --submit: array $array, merge $merge"
if ! wait_for 300 jobs_done; then echo "FAIL: jobs still queued or running"; squeue; exit 1; fi
if [ "$(merge_state "$merge")" != COMPLETED ]; then
  echo "FAIL: merge job $merge is $(merge_state "$merge")"; cat "$work"/c2/logs/*; exit 1
fi
grep -q 'all 4 shards, all 16 cells' "$work"/c2/logs/jp-c2-merge-*.out || { echo "FAIL: merge log"; cat "$work"/c2/logs/*; exit 1; }
if ! diff <(cells_of "$work/c2/merged.db") <(cells_of "$work/whole2.db") >"$work/diff2.txt"; then
  echo "FAIL: cluster slurm's merged store differs from the unsharded run:"; cat "$work/diff2.txt"; exit 1
fi
echo "2 passed: the merged store of 16 cells equals the unsharded run"

write_study "$work/study3.yaml" 1
$cli sweep "$work/study3.yaml" --store "$work/whole3.db" "${sweep_flags[@]:1}" >/dev/null 2>&1
out=$($cli cluster slurm "$work/study3.yaml" --shards 4 --name jp-c3 --results "$work/c3" --submit -o json "${sweep_flags[@]}")
array=$(json_field array_job_id <<<"$out")
merge=$(json_field merge_job_id <<<"$out")
echo "3: array $array, merge $merge; cancelling index 2 once its first cell is stored"
log2="$work/c3/logs/jp-c3-${array}_2.out"
first_cell_of_2() { grep -q '^cell 1/' "$log2" 2>/dev/null; }
if ! wait_for 300 first_cell_of_2; then echo "FAIL: task 2 never started"; squeue; exit 1; fi
scancel "${array}_2"
if ! wait_for 300 jobs_done; then echo "FAIL: jobs still queued or running"; squeue; exit 1; fi
if [ "$(merge_state "$merge")" != FAILED ]; then
  echo "FAIL: merge job $merge is $(merge_state "$merge"), not FAILED"; cat "$work"/c3/logs/*merge*; exit 1
fi
merge_log=$(cat "$work"/c3/logs/jp-c3-merge-"$merge".out)
for want in 'is incomplete; nothing merged' 'shard 2/4 (unfinished' 'cells missing: ' 'resubmit array indices 2 '; do
  grep -qF "$want" <<<"$merge_log" || { echo "FAIL: the merge log lacks '$want':"; echo "$merge_log"; exit 1; }
done
[ ! -e "$work/c3/merged.db" ] || { echo "FAIL: the refused merge wrote merged.db"; exit 1; }
set +e
missing=$($cli cluster missing "$work/c3/results-{shard}.db" --shards 4 -o json)
rc=$?
set -e
[ "$rc" -eq 1 ] || { echo "FAIL: cluster missing exited $rc, not 1"; exit 1; }
[ "$(json_field resubmit <<<"$missing")" = "[2]" ] || { echo "FAIL: cluster missing: $missing"; exit 1; }
echo "3: the merge failed naming shard 2's cells; resubmitting index 2"
out=$($cli cluster slurm "$work/study3.yaml" --shards 4 --name jp-c3 --results "$work/c3" --submit --only 2 -o json "${sweep_flags[@]}")
merge=$(json_field merge_job_id <<<"$out")
if ! wait_for 300 jobs_done; then echo "FAIL: jobs still queued or running"; squeue; exit 1; fi
if [ "$(merge_state "$merge")" != COMPLETED ]; then
  echo "FAIL: the merge after the resubmission is $(merge_state "$merge")"; cat "$work"/c3/logs/*; exit 1
fi
if ! diff <(cells_of "$work/c3/merged.db") <(cells_of "$work/whole3.db") >"$work/diff3.txt"; then
  echo "FAIL: after the resubmission the merged store differs from the unsharded run:"; cat "$work/diff3.txt"; exit 1
fi
echo "PASS: hand-written array; cluster slurm --submit (sim + llamacpp); scancel of index 2, failed merge naming its cells, resubmission completing the study"
