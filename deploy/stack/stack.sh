#!/usr/bin/env bash
# The whole system on one machine without Docker (make stack / make stack-down): mint db, the four
# services as separate mint serve processes — two replicas each of wallet and transactions, sharing
# the database — against the local RabbitMQ and Redis, Mailpit as the SMTP server and mail UI, nginx
# as the gateway (deploy/nginx) and Prometheus scraping every process (deploy/prometheus).
#
#   stack.sh up     start everything, wait until each part is ready, print the URLs
#   stack.sh down   stop every process it started (by pid), the gateway first
#
# Settings (environment):
#   MINT_STACK_DIR        state: logs/, pids/, the database, keys, Prometheus data  (./stack-data)
#   MINT_STACK_BIN        the mint binary                                           (bin/mint)
#   MINT_STACK_AMQP_URL   RabbitMQ                       (amqp://guest:guest@127.0.0.1:5672/)
#   MINT_STACK_REDIS_URL  Redis                          (redis://127.0.0.1:6379/0)
#   MINT_STACK_MAILPIT    the mailpit binary             (mailpit on PATH, else $(go env GOPATH)/bin)
# Ports: gateway 127.0.0.1:8088; auth 4001, notifications 4002, wallet 4003 and 4013, transactions
# 4004 and 4014; mint db 27017 (HTTP 27018); Mailpit SMTP 1025, UI 8025; Prometheus 9090.
set -Eeuo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mkdir -p "${MINT_STACK_DIR:-./stack-data}" && cd "${MINT_STACK_DIR:-./stack-data}" && pwd)
bin=${MINT_STACK_BIN:-$repo/bin/mint}
amqp=${MINT_STACK_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/}
redis=${MINT_STACK_REDIS_URL:-redis://127.0.0.1:6379/0}
logs=$dir/logs
pids=$dir/pids

mailpit_bin() {
  if [ -n "${MINT_STACK_MAILPIT:-}" ]; then echo "$MINT_STACK_MAILPIT"; return; fi
  command -v mailpit 2>/dev/null || echo "$(go env GOPATH)/bin/mailpit"
}

# start NAME COMMAND… runs a process in the background, its output in logs/NAME.log, its pid in
# pids/NAME.pid.
start() {
  local name=$1; shift
  if [ -f "$pids/$name.pid" ] && kill -0 "$(cat "$pids/$name.pid")" 2>/dev/null; then
    echo "stack: $name is already running (pid $(cat "$pids/$name.pid"))" >&2; return 1
  fi
  "$@" >>"$logs/$name.log" 2>&1 &
  echo $! >"$pids/$name.pid"
}

# wait_ready NAME URL waits until URL answers 200, or fails naming the log to read.
wait_ready() {
  local name=$1 url=$2
  for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then return 0; fi
    if ! kill -0 "$(cat "$pids/$name.pid")" 2>/dev/null; then
      echo "stack: $name exited; see $logs/$name.log:" >&2; tail -n 20 "$logs/$name.log" >&2; return 1
    fi
    sleep 0.3
  done
  echo "stack: $name is not ready at $url after 30 s; see $logs/$name.log" >&2
  return 1
}

# serve NAME SERVICE ADDR [ENV=VALUE…] starts one mint serve process.
serve() {
  local name=$1 service=$2 addr=$3; shift 3
  start "$name" env MINT_HTTP_ADDR="$addr" MINT_MONGODB_URI=mongodb://127.0.0.1:27017/ \
    MINT_AMQP_URL="$amqp" MINT_REDIS_URL="$redis" MINT_TRUSTED_PROXIES=127.0.0.1/32 \
    MINT_COOKIE_SECURE=false "$@" "$bin" serve "$service"
  wait_ready "$name" "http://$addr/ready"
}

up() {
  mkdir -p "$logs" "$pids" "$dir/nginx-tmp"
  trap 'echo "stack: stopping what was started" >&2; down >&2; exit 1' ERR
  [ -x "$bin" ] || { echo "stack: $bin is missing: run make build" >&2; exit 1; }
  local keys=$dir/auth-keys.json
  [ -f "$keys" ] || "$bin" keys generate --file "$keys" >/dev/null

  start db "$bin" db --data-dir "$dir/db" --addr 127.0.0.1:27017 --http-addr 127.0.0.1:27018
  wait_ready db http://127.0.0.1:27018/ready
  start mailpit "$(mailpit_bin)" --smtp 127.0.0.1:1025 --listen 127.0.0.1:8025 \
    --database "$dir/mailpit.db" --disable-version-check
  wait_ready mailpit http://127.0.0.1:8025/api/v1/messages

  serve auth auth 127.0.0.1:4001 MINT_AUTH_KEYS_FILE="$keys"
  serve notifications notifications 127.0.0.1:4002 MINT_SMTP_URL=smtp://127.0.0.1:1025
  serve wallet-1 wallet 127.0.0.1:4003
  serve wallet-2 wallet 127.0.0.1:4013
  serve transactions-1 transactions 127.0.0.1:4004
  serve transactions-2 transactions 127.0.0.1:4014

  start prometheus prometheus --config.file="$repo/deploy/prometheus/prometheus.local.yml" \
    --storage.tsdb.path="$dir/prometheus" --web.listen-address=127.0.0.1:9090
  wait_ready prometheus http://127.0.0.1:9090/-/ready
  start gateway nginx -p "$dir/" -c "$repo/deploy/nginx/nginx.local.conf" -g 'daemon off;'
  wait_ready gateway http://127.0.0.1:8088/health

  cat <<URLS
mint stack is running (state in $dir, logs in $logs)
  API         http://127.0.0.1:8088/api/v1/   (nginx: 10 r/s per client, burst 20)
  mail        http://127.0.0.1:8025/          (Mailpit)
  Prometheus  http://127.0.0.1:9090/
  services    auth :4001, notifications :4002, wallet :4003 :4013, transactions :4004 :4014
  database    mongodb://127.0.0.1:27017/      (mint db)
stop it with: make stack-down
URLS
}

down() {
  [ -d "$pids" ] || return 0
  local name pid
  for name in gateway prometheus transactions-2 transactions-1 wallet-2 wallet-1 notifications auth mailpit db; do
    [ -f "$pids/$name.pid" ] || continue
    pid=$(cat "$pids/$name.pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pids/$name.pid"
  done
  echo "mint stack stopped"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
