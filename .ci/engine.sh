# shellcheck shell=bash
# The Docker engine for the tests marked `engine` (tests/engine.py, shared/docs/engine.md).
# Sourced by .ci/run, which calls engine_start and, from its EXIT trap, engine_stop:
#
#   engine_start  installs Debian's docker.io and busybox-static when missing, starts dockerd
#                 unless an engine already answers, waits until `docker info` answers (or fails
#                 loudly, with the daemon's log), removes the containers and networks an earlier
#                 run left, and builds the test image;
#   engine_stop   removes the test containers and stops dockerd, only if engine_start started it.
#
# It needs the project's virtual environment active (tests/engine.py does the engine work).

engine_pid=""
engine_log="${TMPDIR:-/tmp}/compose-ports-dockerd.log"
# The storage driver shared/docs/engine.md found working on these machines; it copies a whole
# image per container, which costs nothing with the test image (one 2 MB binary).
engine_storage_driver="vfs"
engine_wait_seconds=60

engine_answers() {
  timeout 20 docker info >/dev/null 2>&1
}

engine_start() {
  if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1 \
    || [ ! -x /bin/busybox ] || ! dpkg -s busybox-static >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq docker.io busybox-static >/dev/null
  fi
  if engine_answers; then
    echo "a Docker engine already answers: using it, and leaving it running"
  else
    dockerd --storage-driver="$engine_storage_driver" >"$engine_log" 2>&1 &
    engine_pid=$!
    local waited=0
    until engine_answers; do
      if ! kill -0 "$engine_pid" 2>/dev/null; then
        engine_fail "dockerd exited before it answered"
        return 1
      fi
      if [ "$waited" -ge "$engine_wait_seconds" ]; then
        engine_fail "dockerd did not answer within ${engine_wait_seconds} s"
        return 1
      fi
      sleep 1
      waited=$((waited + 1))
    done
    echo "dockerd started (pid $engine_pid, log $engine_log) after ${waited} s"
  fi
  python tests/engine.py prepare
}

engine_fail() {
  echo "ENGINE FAILURE: $1; the tests marked engine cannot run. dockerd's log:" >&2
  tail -n 40 "$engine_log" >&2 || true
}

engine_stop() {
  [ -n "$engine_pid" ] || return 0
  python tests/engine.py cleanup >/dev/null 2>&1 || true
  if kill -0 "$engine_pid" 2>/dev/null; then
    # Its own containerd is its child: known by pid in case dockerd has to be killed.
    local children
    children=$(ps -o pid= --ppid "$engine_pid" 2>/dev/null || true)
    kill -TERM "$engine_pid" 2>/dev/null || true
    local waited=0
    # dockerd stops its containers and its containerd before it exits.
    while kill -0 "$engine_pid" 2>/dev/null && [ "$waited" -lt 30 ]; do
      sleep 1
      waited=$((waited + 1))
    done
    if kill -0 "$engine_pid" 2>/dev/null; then
      echo "dockerd (pid $engine_pid) ignored SIGTERM for 30 s: SIGKILL" >&2
      kill -KILL "$engine_pid" 2>/dev/null || true
      for child in $children; do
        kill -TERM "$child" 2>/dev/null || true
      done
    fi
    wait "$engine_pid" 2>/dev/null || true
    echo "dockerd (pid $engine_pid) stopped"
  fi
  engine_pid=""
}
