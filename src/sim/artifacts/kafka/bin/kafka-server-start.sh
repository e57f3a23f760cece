#!/bin/sh
# Start a Kafka server (broker and/or KRaft controller, or a ZooKeeper-mode broker) with a server.properties.
# Written by orch for registry-built test artifacts. Defaults, as Apache Kafka's script: KAFKA_LOG4J_OPTS from
# config/log4j.properties, KAFKA_HEAP_OPTS -Xmx1G -Xms1G; -daemon runs it in the background.
# Usage: kafka-server-start.sh [-daemon] server.properties [--override property=value]*
if [ $# -lt 1 ]; then
  echo "USAGE: $0 [-daemon] server.properties [--override property=value]*" >&2
  exit 1
fi
base_dir=$(dirname -- "$0")

if [ -z "$KAFKA_LOG4J_OPTS" ]; then
  export KAFKA_LOG4J_OPTS="-Dlog4j.configuration=file:$base_dir/../config/log4j.properties"
fi
if [ -z "$KAFKA_HEAP_OPTS" ]; then
  export KAFKA_HEAP_OPTS="-Xmx1G -Xms1G"
fi

EXTRA_ARGS=${EXTRA_ARGS-'-name kafkaServer -loggc'}
DAEMON=
if [ "$1" = -daemon ]; then
  DAEMON=-daemon
  shift
fi
# shellcheck disable=SC2086
exec "$base_dir/kafka-run-class.sh" $DAEMON $EXTRA_ARGS kafka.Kafka "$@"
