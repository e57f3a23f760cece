#!/usr/bin/env bash
# orch test build: Apache Spark's sbin/stop-master.sh is not in the pyspark sdist; this one does what it does.
if [ -z "${SPARK_HOME}" ]; then
  export SPARK_HOME="$(cd "$(dirname "$0")"/..; pwd)"
fi
. "${SPARK_HOME}/sbin/spark-config.sh"
"${SPARK_HOME}/sbin"/spark-daemon.sh stop org.apache.spark.deploy.master.Master 1
