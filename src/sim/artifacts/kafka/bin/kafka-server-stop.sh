#!/bin/sh
# Stop the Kafka servers of this machine (SIGTERM to every java process running kafka.Kafka), as Apache Kafka's
# script does; with --process-role broker|controller only the servers whose config has that process.roles.
# Written by orch for registry-built test artifacts.
SIGNAL=${SIGNAL:-TERM}
ROLE=
if [ "$1" = --process-role ]; then ROLE=$2; fi
PIDS=
for pid in $(ps -eo pid= -o args= | awk '/java/ && /kafka\.Kafka/ && !/awk/ { print $1 }'); do
  if [ -n "$ROLE" ]; then
    config=$(ps -o args= -p "$pid" | awk '{ for (i = 1; i <= NF; i++) if ($i == "kafka.Kafka") { print $(i+1); exit } }')
    grep -Eq "^process\.roles=(.*,)?$ROLE(,.*)?\$" "$config" 2>/dev/null || continue
  fi
  PIDS="$PIDS $pid"
done
if [ -z "$PIDS" ]; then
  echo "No kafka server to stop"
  exit 1
fi
# shellcheck disable=SC2086
kill -s "$SIGNAL" $PIDS
