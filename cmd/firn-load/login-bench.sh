#!/bin/bash
# Interleaved before/after login benchmark (docs/benchmarks.md, "Identity throughput"):
# starts two firn servers (./firn-before and ./firn-final from BENCH_DIR) on fresh data
# directories, gives ADMIN the RSA key key.pub and a PAT, then runs firn-load jwt-login
# and pat-login against each, interleaved, 3 rounds, with and without closing sessions,
# printing each run with the server's CPU time per login (from /proc/<pid>/stat).
#
#   openssl genrsa 2048 | openssl pkcs8 -topk8 -inform PEM -out key.p8 -nocrypt
#   openssl rsa -in key.p8 -pubout -out key.pub
set -e
cd "${BENCH_DIR:?set BENCH_DIR to a directory holding firn-before, firn-final, firn-load, key.p8 and key.pub}"
PUB=$(grep -v '^-' key.pub | tr -d '\n')
declare -A PID PATS
for lab in before final; do
  case $lab in before) PORT=18901;; final) PORT=18902;; esac
  rm -rf data-$lab
  FIRN_ADMIN_PASSWORD=benchpw ./firn-$lab serve --listen 127.0.0.1:$PORT --data-dir data-$lab --log-level warn >serve-$lab.log 2>&1 &
  PID[$lab]=$!
  for i in $(seq 50); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.2; done
  SQL="./firn-$lab sql -port $PORT -user ADMIN -password benchpw -format csv"
  $SQL -q "ALTER USER ADMIN SET RSA_PUBLIC_KEY='$PUB'" >/dev/null
  PATS[$lab]=$($SQL -q "ALTER USER ADMIN ADD PAT bench ROLE_RESTRICTION = 'SYSADMIN' MINS_TO_BYPASS_NETWORK_POLICY_REQUIREMENT = 600" | tail -1 | cut -d, -f2)
done
trap 'kill ${PID[before]} ${PID[final]}' EXIT
for r in 1 2 3; do
 for close in ${CLOSES:-false true}; do
  for m in jwt-login pat-login; do
   for lab in before final; do
    case $lab in before) PORT=18901;; final) PORT=18902;; esac
    SP=${PID[$lab]}
    c0=$(awk '{print $14+$15}' /proc/$SP/stat)
    OUT=$(./firn-load -mode $m -url http://127.0.0.1:$PORT -account FIRN -user ADMIN -key key.p8 -token "${PATS[$lab]}" -c 32 -d 5s -warmup 0s -close=$close 2>/dev/null)
    c1=$(awk '{print $14+$15}' /proc/$SP/stat)
    n=$(echo "$OUT" | sed 's/.*logins=\([0-9]*\).*/\1/')
    echo "$lab close=$close run$r $OUT server_cpu_per_login=$(( (c1-c0)*10000/n ))us load=$(cut -d' ' -f1 /proc/loadavg)"
   done
  done
 done
done
