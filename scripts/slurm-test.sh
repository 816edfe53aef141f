#!/usr/bin/env bash
# The Slurm scale-out test (ctest label `slurm`): installs Debian's Slurm when missing, starts a
# one-node cluster on localhost (munged, slurmctld, slurmd as plain daemons, no systemd, no
# cgroups), submits the tiny test sweep as a 2-task job array plus the dependent merge job with
# scripts/slurm/submit.sh, and checks the merged CSV equals a local `--jobs 1` run byte for byte.
# Stops every daemon it started and removes its files, whatever happens.
#
#   scripts/slurm-test.sh [LPUSIM_BINARY]      exit 0 pass, 1 fail, 77 skipped (not root)
#
# Needs root (packages, daemons). Uses its own munge socket and two free Slurm ports (or
# SLURM_TEST_PORT and the next one), so a Slurm or munge already on the machine, or another run of
# this test, is left alone. Packages are installed with services kept from starting (policy-rc.d).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
lpusim=$(realpath "${1:-$root/build/lpusim}")
sweep="$root/tests/data/sweeps/tiny-sweep.yaml"
port=${SLURM_TEST_PORT:-}
packages=(munge slurmctld slurmd slurm-client)
step_timeout=60    # seconds for each daemon to come up
job_timeout=300    # seconds for the array and the merge to finish

say() { echo "slurm-test: $*"; }
fail() { say "FAILED: $*"; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
  say "SKIPPED: needs root to install Slurm and start its daemons (CI runs it as root)"
  exit 77
fi
[ -x "$lpusim" ] || fail "no lpusim binary at $lpusim"

work=$(mktemp -d /tmp/lpusim-slurm.XXXXXX)
chmod 755 "$work"
export SLURM_CONF="$work/slurm.conf"

show_logs() {
  for log in "$work"/*.log "$work"/out/slurm-*.out; do
    [ -f "$log" ] || continue
    echo "----- $log (last 20 lines)"
    tail -n 20 "$log"
  done
}

stop_daemon() {  # stop_daemon NAME PIDFILE
  [ -f "$2" ] || return 0
  local pid
  pid=$(cat "$2")
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  say "$1 (pid $pid) did not stop on SIGTERM: SIGKILL"
  kill -9 "$pid" 2>/dev/null || true
}

policy_guard=""
cleanup() {
  local status=$?
  remove_policy_guard
  if [ -f "$work/slurmctld.pid" ]; then
    timeout 10 scancel --quiet --user=root 2>/dev/null || true
  fi
  stop_daemon slurmd "$work/slurmd.pid"
  stop_daemon slurmctld "$work/slurmctld.pid"
  stop_daemon munged "$work/munged.pid"
  [ "$status" -eq 0 ] || show_logs
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

install_packages() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if [ ! -e /usr/sbin/policy-rc.d ]; then  # keep the packages' init scripts from starting daemons
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    policy_guard=1
  fi
  timeout 300 apt-get update -q >/dev/null || fail "apt-get update"
  timeout 600 apt-get install -y -q --no-install-recommends "${missing[@]}" >"$work/apt.log" 2>&1 ||
    fail "apt-get install ${missing[*]} (see $work/apt.log)"
  remove_policy_guard
}

remove_policy_guard() {
  [ -z "$policy_guard" ] || rm -f /usr/sbin/policy-rc.d
  policy_guard=""
}

# Two consecutive free TCP ports on localhost (slurmctld, slurmd).
free_ports() {
  python3 -c '
import socket
for _ in range(200):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close()
    t = socket.socket()
    try:
        t.bind(("127.0.0.1", p + 1)); t.close(); print(p); break
    except OSError:
        t.close()
'
}

wait_until() {  # wait_until SECONDS DESCRIPTION COMMAND...
  local seconds=$1 what=$2
  shift 2
  for _ in $(seq $((seconds * 5))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  fail "$what did not happen within $seconds s"
}

start_munge() {
  dd if=/dev/urandom of="$work/munge.key" bs=1024 count=1 status=none
  chmod 600 "$work/munge.key"
  /usr/sbin/munged --force --key-file="$work/munge.key" --socket="$work/munge.sock" \
    --pid-file="$work/munged.pid" --log-file="$work/munged.log" --seed-file="$work/munged.seed" ||
    fail "munged did not start"
  wait_until "$step_timeout" "munged answering" \
    sh -c "echo ok | munge --socket='$work/munge.sock' | unmunge --socket='$work/munge.sock'"
}

write_slurm_conf() {
  local host
  host=$(hostname -s)
  mkdir -p "$work/state" "$work/spool" "$work/out"
  cat >"$SLURM_CONF" <<EOF
ClusterName=lpusim-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge.sock
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

start_slurm() {
  slurmctld -f "$SLURM_CONF" || fail "slurmctld did not start"
  wait_until "$step_timeout" "slurmctld answering" sh -c "scontrol ping | grep -q UP"
  slurmd -f "$SLURM_CONF" || fail "slurmd did not start"
  wait_until "$step_timeout" "the node becoming idle" sh -c "sinfo -h -o %T | grep -q idle"
}

job_state() { scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | head -1; }
job_reason() { scontrol show job "$1" 2>/dev/null | sed -n 's/.*Reason=\([^ ]*\).*/\1/p' | head -1; }

wait_for_job() {  # wait_for_job ID
  for _ in $(seq $((job_timeout * 2))); do
    case "$(job_state "$1")" in
      COMPLETED) return 0 ;;
      FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE)
        fail "job $1 ended $(job_state "$1")" ;;
    esac
    [ "$(job_reason "$1")" != "DependencyNeverSatisfied" ] || fail "a shard of the array failed"
    sleep 0.5
  done
  fail "job $1 did not finish within $job_timeout s (state $(job_state "$1"))"
}

install_packages
[ -n "$port" ] || port=$(free_ports)
[ -n "$port" ] || fail "no free TCP port pair on localhost"
start_munge
write_slurm_conf
start_slurm
say "one-node cluster up: $(sinfo -h -o '%P %D nodes %c CPUs %T')"

"$lpusim" sweep "$sweep" --jobs 1 --out "$work/local.csv" 2>"$work/local.log" ||
  fail "local sweep (see $work/local.log)"
cd "$root"
read -r array merge < <(LPUSIM="$lpusim" bash scripts/slurm/submit.sh "$sweep" 2 "$work/out" \
  --cpus-per-task=1)
say "submitted array $array and merge $merge"
wait_for_job "$merge"
for task in 1 2; do
  [ -s "$work/out/shard-$task-of-2.csv" ] || fail "no output from array task $task"
done
cmp "$work/local.csv" "$work/out/results.csv" ||
  fail "the merged Slurm result differs from the local --jobs 1 run"
say "PASSED: 2-task array + merge on Slurm equals the local run ($(($(wc -l <"$work/local.csv") - 1)) rows)"
