# Shared by the shell tests (daemon, interop, e2e): counted checks and
# bounded waits. The test that sources it keeps passes and fails and defines
# fail(), which knows the logs worth showing.

ok() { passes=$((passes + 1)); echo "ok: $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }

# wait_for SECONDS CMD...: poll every WAIT_POLL seconds (0.05 unless set),
# bounded; SECONDS may have a fraction
wait_for() {
	local deadline=$(( $(date +%s%N) + $(awk -v s="$1" 'BEGIN { printf "%d", s * 1000 }') * 1000000 ))
	shift
	while [ "$(date +%s%N)" -lt $deadline ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep "${WAIT_POLL:-0.05}"
	done
	return 1
}

# stop PID: SIGTERM, a bounded wait, then SIGKILL; returns the exit status
stop() {
	kill -TERM "$1" 2>/dev/null
	wait_for 10 gone "$1" || kill -9 "$1" 2>/dev/null
	wait "$1"
}

# successor_pid LOG: the pid of the last successor a SIGUSR2 started, from
# the daemon's log
successor_pid() { sed -n 's/.*upgrade: started .* (pid \([0-9]*\)) to take over.*/\1/p' "$1" | tail -1; }

# gone PID: exited; a process that is not this shell's child (a successor
# a SIGUSR2 started) may stay a zombie nobody reaps
gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^State:.Z' "/proc/$1/status" 2>/dev/null; }

# term_check: SIGTERM to the daemon in $pid, a bounded wait, and a check
# that it exited 0; $pid is cleared
term_check() {
	local rc
	kill -TERM "$pid"
	wait_for 10 sh -c "! kill -0 $pid 2>/dev/null"
	wait "$pid"; rc=$?
	check "SIGTERM exits 0 (rc $rc)" test $rc -eq 0
	pid=
}
