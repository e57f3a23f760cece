#!/usr/bin/env bash
# orch test build: Apache Spark's sbin/stop-worker.sh is not in the pyspark sdist; this one does what it does.
if [ -z "${SPARK_HOME}" ]; then
  export SPARK_HOME="$(cd "$(dirname "$0")"/..; pwd)"
fi
. "${SPARK_HOME}/sbin/spark-config.sh"
. "${SPARK_HOME}/bin/load-spark-env.sh"
if [ "$SPARK_WORKER_INSTANCES" = "" ]; then
  "${SPARK_HOME}/sbin"/spark-daemon.sh stop org.apache.spark.deploy.worker.Worker 1
else
  for ((i=0; i<SPARK_WORKER_INSTANCES; i++)); do
    "${SPARK_HOME}/sbin"/spark-daemon.sh stop org.apache.spark.deploy.worker.Worker $(( i + 1 ))
  done
fi
