#!/usr/bin/env bash
# A real one-node Slurm cluster on 127.0.0.1 (issue 18, docs/cluster.md): munged, slurmctld
# and slurmd started here in the foreground with their own slurm.conf in a temporary
# directory (no systemd), stopped by PID at the end. A 4-task job array runs
# `jouleperf sweep --shard auto` on the sim engine, each task into its own store, and a
# merge job submitted with --dependency=afterok runs after it; the merged store must equal
# an unsharded run of the same grid cell for cell (keys, statuses, simulated energies).
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
echo "PASS: $(table "$work/all.db" | wc -l) lines of cells equal; array $array, merge $merge"
