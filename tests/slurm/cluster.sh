#!/usr/bin/env bash
# A private single-node Slurm cluster for tests, entirely inside one directory (config, munge key and socket,
# state, spool, pid and log files), on free TCP ports so it cannot collide with a site's Slurm or another test.
#
#   tests/slurm/cluster.sh start DIR   starts munged, slurmctld and slurmd, waits until the node is idle and
#                                      prints DIR/slurm.conf (use it as SLURM_CONF for sbatch/srun/sinfo)
#   tests/slurm/cluster.sh stop DIR    cancels the cluster's jobs and stops each daemon by the PID in its pid file
#
# DIR must be an empty directory the caller owns (stop never touches anything outside it). Needs root
# (munged runs as the munge user through runuser) and the Debian packages slurm-wlm and munge.
# Environment: TS_SLURM_CPUS (CPUs of the node, default min(2, nproc)), TS_SLURM_WAIT (seconds to wait for
# each daemon, default 30).
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
ACTION=$1
DIR=$(cd "$2" 2>/dev/null && pwd) || { echo "cluster.sh: no directory $2" >&2; exit 2; }
WAIT=${TS_SLURM_WAIT:-30}
CONF=$DIR/slurm.conf
export SLURM_CONF=$CONF

log() { echo "cluster.sh: $*" >&2; }

# Two free TCP ports from the kernel (a small race with other programs is acceptable for a test).
free_ports() {
  /usr/bin/python3 - <<'EOF'
import socket
ss = [socket.socket() for _ in range(2)]
for s in ss: s.bind(('127.0.0.1', 0))
print(*(s.getsockname()[1] for s in ss))
EOF
}

write_conf() {
  local ports cpus mem
  read -r -a ports <<<"$(free_ports)"
  cpus=${TS_SLURM_CPUS:-$(( $(nproc) < 2 ? $(nproc) : 2 ))}
  # RealMemory above the machine's makes slurmd register the node as invalid: stay below 90 % of MemTotal.
  mem=$(awk '/^MemTotal:/ { m = int($2 / 1024 * 0.9); print (m < 20000 ? m : 20000) }' /proc/meminfo)
  cat >"$CONF" <<EOF
# private test cluster written by tests/slurm/cluster.sh
ClusterName=tessera-test
SlurmctldHost=localhost
SlurmctldPort=${ports[0]}
SlurmdPort=${ports[1]}
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$DIR/munge/munge.socket.2
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
ReturnToService=2
MailProg=/bin/true
# sbatch --wait polls every 2 s only while 2 < MinJobAge/2 is false; the default (300) stretches it to 32 s
MinJobAge=5
KillWait=5
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
NodeName=localhost CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
}

# munged wants its key and socket in a munge-owned directory that others can enter (clients connect to the
# socket) but not write: 0755.
start_munge() {
  install -d -m 0755 -o munge -g munge "$DIR/munge"
  if command -v mungekey >/dev/null; then
    runuser -u munge -- mungekey --create --keyfile="$DIR/munge/munge.key"
  else
    dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
    chown munge:munge "$DIR/munge/munge.key"
  fi
  chmod 0400 "$DIR/munge/munge.key"
  runuser -u munge -- munged --socket="$DIR/munge/munge.socket.2" --pid-file="$DIR/munge/munged.pid" \
    --log-file="$DIR/munge/munged.log" --seed-file="$DIR/munge/munged.seed" --key-file="$DIR/munge/munge.key"
  wait_for "munged" munge_ok
}

munge_ok() { munge -n -S "$DIR/munge/munge.socket.2" 2>/dev/null | unmunge -S "$DIR/munge/munge.socket.2" >/dev/null 2>&1; }
node_idle() { [[ $(sinfo -h -N -o '%T' 2>/dev/null) == idle ]]; }
ctld_ok() { scontrol ping 2>/dev/null | grep -q 'is UP'; }

wait_for() { # wait_for NAME CHECK: polls CHECK every 0.2 s for up to WAIT seconds
  local i
  for ((i = 0; i < WAIT * 5; i++)); do
    "$2" && return 0
    sleep 0.2
  done
  log "$1 did not come up within ${WAIT}s; logs in $DIR/log and $DIR/munge"
  tail -n 20 "$DIR"/log/*.log "$DIR"/munge/munged.log 2>/dev/null >&2 || true
  return 1
}

start() {
  [[ -z $(ls -A "$DIR") ]] || { log "$DIR is not empty"; exit 2; }
  # the munge user must be able to reach its socket directory inside DIR
  chmod 0755 "$DIR"
  runuser -u munge -- test -x "$DIR" ||
    { log "user munge cannot enter $DIR: make its parent directories searchable (chmod o+x)"; exit 2; }
  mkdir -p "$DIR/state" "$DIR/spool" "$DIR/run" "$DIR/log"
  write_conf
  start_munge
  slurmctld -f "$CONF"
  wait_for "slurmctld" ctld_ok
  slurmd -f "$CONF" -N localhost
  wait_for "the node (sinfo idle)" node_idle
  echo "$CONF"
}

# stop_pid NAME PIDFILE: SIGTERM to the PID in PIDFILE if that process is still NAME, then wait for it to exit.
stop_pid() {
  local name=$1 file=$2 pid i
  [[ -s $file ]] || return 0
  pid=$(<"$file")
  [[ $pid =~ ^[0-9]+$ && -d /proc/$pid ]] || return 0
  # guard against a recycled PID: only signal the daemon this directory started
  [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$name" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < WAIT * 5; i++)); do
    [[ -d /proc/$pid ]] || return 0
    sleep 0.2
  done
  log "$name ($pid) ignored SIGTERM for ${WAIT}s, sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

stop() {
  if [[ -s $DIR/run/slurmctld.pid ]] && ctld_ok; then
    local jobs i
    jobs=$(squeue -h -o '%i' 2>/dev/null || true)
    if [[ -n $jobs ]]; then
      log "cancelling jobs left in the cluster: ${jobs//$'\n'/ }"
      # shellcheck disable=SC2086
      scancel $jobs 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do [[ -z $(squeue -h -o '%i' 2>/dev/null) ]] && break; sleep 0.2; done
    fi
  fi
  stop_pid slurmd "$DIR/run/slurmd.pid"
  stop_pid slurmctld "$DIR/run/slurmctld.pid"
  stop_pid munged "$DIR/munge/munged.pid"
}

case $ACTION in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
