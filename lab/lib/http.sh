# The download server for the Kubernetes stand-ins: lab/downloads served from the bastion's
# namespace on every bastion address (hosts: http://10.77.1.1:8080/, root: http://10.77.0.2:8080/).

http_pidfile() { echo "$LAB_DIR/http.pid"; }

start_http() {
    mkdir -p "$DOWNLOADS_DIR"
    pid_alive "$(http_pidfile)" python3 && return 0
    nohup ip netns exec "$(host_ns "$BASTION_NAME")" "$PYTHON" -m http.server "$HTTP_PORT" \
        --bind 0.0.0.0 --directory "$DOWNLOADS_DIR" >>"$LAB_DIR/http.log" 2>&1 </dev/null &
    echo $! >"$(http_pidfile)"
    local i
    for ((i = 0; i < 50; i++)); do
        in_ns "$BASTION_NAME" "$PYTHON" - "$BRIDGE_ADDR" "$HTTP_PORT" <<'PY' 2>/dev/null && return 0
import socket, sys
socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1).close()
PY
        sleep 0.1
    done
    die "download server did not start; see $LAB_DIR/http.log"
}

stop_http() { pid_stop "$(http_pidfile)" python3; }
