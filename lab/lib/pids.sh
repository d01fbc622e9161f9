# Background processes tracked by pid files; a pid counts only while it still runs the same program.

# pid_alive PIDFILE COMM: true if the pid in PIDFILE is running and its command name is COMM.
pid_alive() {
    local pid
    [ -s "$1" ] || return 1
    pid=$(cat "$1")
    [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "$2" ]
}

# pid_stop PIDFILE COMM: TERM, wait up to 5s, then KILL; removes the pid file.
pid_stop() {
    local pid i
    if pid_alive "$1" "$2"; then
        pid=$(cat "$1")
        kill "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            pid_alive "$1" "$2" || break
            sleep 0.1
        done
        pid_alive "$1" "$2" && kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$1"
}
