#!/usr/bin/env bash
# orch test build: Apache Spark's sbin/start-master.sh is not in the pyspark sdist; this one does what it does.
# Starts the standalone master through spark-daemon.sh (which honours SPARK_NO_DAEMONIZE: foreground under systemd).
# Reads SPARK_MASTER_HOST (default: hostname -f), SPARK_MASTER_PORT (7077), SPARK_MASTER_WEBUI_PORT (8080) from the
# environment and conf/spark-env.sh; extra arguments go to the Master.
if [ -z "${SPARK_HOME}" ]; then
  export SPARK_HOME="$(cd "$(dirname "$0")"/..; pwd)"
fi
CLASS="org.apache.spark.deploy.master.Master"
ORIGINAL_ARGS="$@"
. "${SPARK_HOME}/sbin/spark-config.sh"
. "${SPARK_HOME}/bin/load-spark-env.sh"
if [ "$SPARK_MASTER_PORT" = "" ]; then SPARK_MASTER_PORT=7077; fi
if [ "$SPARK_MASTER_HOST" = "" ]; then SPARK_MASTER_HOST="$(hostname -f)"; fi
if [ "$SPARK_MASTER_WEBUI_PORT" = "" ]; then SPARK_MASTER_WEBUI_PORT=8080; fi
exec "${SPARK_HOME}/sbin"/spark-daemon.sh start $CLASS 1 \
  --host "$SPARK_MASTER_HOST" --port "$SPARK_MASTER_PORT" --webui-port "$SPARK_MASTER_WEBUI_PORT" \
  $ORIGINAL_ARGS
