# Background processes tracked by pid files; a pid counts only while it still runs the same program.

# pid_alive PIDFILE COMM: true if the pid in PIDFILE is running and its command name is COMM.
pid_alive() {
    local pid
    # Read once: sshd deletes its own pid file as it exits.
    pid=$(cat "$1" 2>/dev/null) && [ -n "$pid" ] || return 1
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ] || return 1
    # An exited process not yet reaped (its parent is init) keeps its name: not alive.
    case $(ps -o stat= -p "$pid" 2>/dev/null) in Z* | "") return 1 ;; esac
}

# pid_stop PIDFILE COMM: TERM, wait up to 5s, then KILL; removes the pid file.
pid_stop() {
    local pid i
    if pid_alive "$1" "$2"; then
        pid=$(cat "$1" 2>/dev/null) || pid=""
        [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            pid_alive "$1" "$2" || break
            sleep 0.1
        done
        pid_alive "$1" "$2" && [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$1"
}
