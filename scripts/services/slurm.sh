#!/usr/bin/env bash
# A throwaway single-node Slurm cluster for the test suites (docs/deploy.md, "The test
# services"): `slurm.sh start DIR` starts munged (its own key and socket in DIR), slurmctld and
# slurmd -N localhost with every state, spool and log file in DIR, waits until the node is
# idle and prints `export ALPHALAB_TEST_SLURM_CONF=DIR/slurm.conf`; `slurm.sh stop DIR` stops
# them (scontrol shutdown, munged --stop, then any leftover by its pid file). No systemd. Runs
# as root (SlurmUser=root, jobs run as the submitting user). Ports: ALPHALAB_SLURM_PORT
# (slurmctld, default 6917) and the next one (slurmd).
set -euo pipefail
cmd=${1:?usage: slurm.sh start|stop DIR}
dir=${2:?usage: slurm.sh start|stop DIR}
dir=$(cd "$dir" && pwd)
conf=$dir/slurm.conf
ctld_port=${ALPHALAB_SLURM_PORT:-6917}
slurmd_port=$((ctld_port + 1))

log() { echo "slurm.sh: $*" >&2; }

stop() {
  if [[ -f $conf ]]; then
    SLURM_CONF=$conf timeout 10 scontrol shutdown >/dev/null 2>&1 || true
  fi
  local pidfile pid i
  for pidfile in "$dir/slurmd.pid" "$dir/slurmctld.pid"; do
    [[ -f $pidfile ]] || continue
    pid=$(cat "$pidfile" 2>/dev/null || true)
    [[ -n $pid ]] || continue
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  if [[ -S $dir/munge/munge.socket ]]; then
    timeout 10 munged --stop --socket="$dir/munge/munge.socket" >/dev/null 2>&1 || true
  fi
  if [[ -f $dir/munge/munged.pid ]]; then
    kill -9 "$(cat "$dir/munge/munged.pid")" 2>/dev/null || true
  fi
}

start() {
  for tool in munged slurmctld slurmd scontrol sinfo; do
    command -v "$tool" >/dev/null || { log "$tool is not installed (scripts/install-deps.sh installs slurm-wlm and munge)"; exit 1; }
  done
  local cpus mem
  # The node offers at least 8 CPUs (config_overrides: more than the machine has), so test jobs
  # (mostly sleeping) of suites running in parallel do not queue behind each other.
  cpus=$(nproc)
  ((cpus >= 8)) || cpus=8
  mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 ))
  mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/jobs"
  chmod 0755 "$dir" "$dir/state" "$dir/spool" "$dir/jobs"
  # munged: its own key and socket, so it never meets another munged on this machine.
  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  chmod 0755 "$dir/munge"
  chmod 0400 "$dir/munge/munge.key"
  chown -R munge:munge "$dir/munge"
  su -s /bin/sh munge -c "munged --socket='$dir/munge/munge.socket' --key-file='$dir/munge/munge.key' \
      --pid-file='$dir/munge/munged.pid' --seed-file='$dir/munge/munged.seed' --log-file='$dir/munge/munged.log'"
  cat >"$conf" <<EOF
ClusterName=alphalab-test
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/slurmd-%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp.txt
MailProg=/bin/true
MinJobAge=300
MaxArraySize=1001
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
SlurmdParameters=config_overrides
KillWait=2
OverTimeLimit=0
SchedulerParameters=sched_interval=1
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
EOF
  export SLURM_CONF=$conf
  slurmctld -f "$conf"
  slurmd -N localhost -f "$conf"
  local i state=""
  for i in $(seq 300); do
    state=$(timeout 5 sinfo -h -N -o '%T' 2>/dev/null | head -1 || true)
    [[ $state == idle* ]] && break
    if [[ $state == down* || $state == drain* ]]; then
      timeout 5 scontrol update NodeName=localhost State=RESUME >/dev/null 2>&1 || true
    fi
    sleep 0.2
  done
  if [[ $state != idle* ]]; then
    log "the node did not become idle (state '$state'); logs in $dir"
    tail -n 20 "$dir/slurmctld.log" "$dir/slurmd.log" >&2 || true
    stop
    exit 1
  fi
  log "single-node cluster up (slurmctld :$ctld_port, slurmd :$slurmd_port, node idle)"
  echo "export ALPHALAB_TEST_SLURM_CONF=$conf"
}

case $cmd in
  start) start ;;
  stop) stop ;;
  *) log "unknown command '$cmd' (start|stop)"; exit 2 ;;
esac
