#!/usr/bin/env bash
# orch test build: Apache Spark's sbin/start-worker.sh is not in the pyspark sdist; this one does what it does.
# Usage: start-worker.sh <master> [options]. Starts SPARK_WORKER_INSTANCES workers (default 1) through
# spark-daemon.sh, instance N on SPARK_WORKER_WEBUI_PORT+N-1 (default 8081) and, when SPARK_WORKER_PORT is set, on
# SPARK_WORKER_PORT+N-1; cores, memory and dir come from SPARK_WORKER_CORES, SPARK_WORKER_MEMORY, SPARK_WORKER_DIR.
if [ -z "${SPARK_HOME}" ]; then
  export SPARK_HOME="$(cd "$(dirname "$0")"/..; pwd)"
fi
CLASS="org.apache.spark.deploy.worker.Worker"
if [[ $# -lt 1 ]]; then
  echo "Usage: ./sbin/start-worker.sh <master> [options]" >&2
  exit 1
fi
. "${SPARK_HOME}/sbin/spark-config.sh"
MASTER=$1
shift
. "${SPARK_HOME}/bin/load-spark-env.sh"
if [ "$SPARK_WORKER_WEBUI_PORT" = "" ]; then SPARK_WORKER_WEBUI_PORT=8081; fi

start_instance() {
  WORKER_NUM=$1
  shift
  if [ "$SPARK_WORKER_PORT" = "" ]; then
    PORT_FLAG=
    PORT_NUM=
  else
    PORT_FLAG="--port"
    PORT_NUM=$(( SPARK_WORKER_PORT + WORKER_NUM - 1 ))
  fi
  WEBUI_PORT=$(( SPARK_WORKER_WEBUI_PORT + WORKER_NUM - 1 ))
  "${SPARK_HOME}/sbin"/spark-daemon.sh start $CLASS $WORKER_NUM \
    --webui-port "$WEBUI_PORT" $PORT_FLAG $PORT_NUM "$MASTER" "$@"
}

if [ "$SPARK_WORKER_INSTANCES" = "" ]; then
  start_instance 1 "$@"
else
  for ((i=0; i<SPARK_WORKER_INSTANCES; i++)); do
    start_instance $(( 1 + i )) "$@"
  done
fi
