#!/bin/sh
# Start a Kafka Connect worker in distributed mode (org.apache.kafka.connect.cli.ConnectDistributed) with a
# connect-distributed.properties. Written by orch for registry-built test artifacts. Defaults, as Apache Kafka's
# script: KAFKA_LOG4J_OPTS from config/connect-log4j.properties, KAFKA_HEAP_OPTS -Xms256M -Xmx2G; -daemon runs it
# in the background.
# Usage: connect-distributed.sh [-daemon] connect-distributed.properties
if [ $# -lt 1 ]; then
  echo "USAGE: $0 [-daemon] connect-distributed.properties" >&2
  exit 1
fi
base_dir=$(dirname -- "$0")

if [ -z "$KAFKA_LOG4J_OPTS" ]; then
  export KAFKA_LOG4J_OPTS="-Dlog4j.configuration=file:$base_dir/../config/connect-log4j.properties"
fi
if [ -z "$KAFKA_HEAP_OPTS" ]; then
  export KAFKA_HEAP_OPTS="-Xms256M -Xmx2G"
fi

EXTRA_ARGS=${EXTRA_ARGS-'-name connectDistributed'}
DAEMON=
if [ "$1" = -daemon ]; then
  DAEMON=-daemon
  shift
fi
# shellcheck disable=SC2086
exec "$base_dir/kafka-run-class.sh" $DAEMON $EXTRA_ARGS org.apache.kafka.connect.cli.ConnectDistributed "$@"
