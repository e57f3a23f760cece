#!/bin/sh
# Run a Java class of this Kafka release with the jars of libs/ on the class path.
# Written by orch for test artifacts assembled from Maven Central (the release's own scripts are not published
# there); it honours the environment of Apache Kafka's kafka-run-class.sh:
#   JAVA_HOME                   java is $JAVA_HOME/bin/java, else the first java on PATH
#   KAFKA_HEAP_OPTS             default -Xmx256M
#   KAFKA_JVM_PERFORMANCE_OPTS  default G1 settings, headless
#   KAFKA_GC_LOG_OPTS           with -loggc; default: GC log in $LOG_DIR/<name>-gc.log
#   KAFKA_JMX_OPTS, JMX_PORT    JMX (remote JMX on JMX_PORT when set)
#   KAFKA_LOG4J_OPTS            default -Dlog4j.configuration=file:<release>/config/tools-log4j.properties
#   LOG_DIR                     default <release>/logs; passed to log4j as kafka.logs.dir
#   KAFKA_OPTS                  anything else for the JVM
#   CLASSPATH                   appended to the class path
# Usage: kafka-run-class.sh [-daemon] [-name NAME] [-loggc] CLASS [ARGS...]
set -e

if [ $# -lt 1 ]; then
  echo "USAGE: $0 [-daemon] [-name servicename] [-loggc] classname [opts]" >&2
  exit 1
fi

base_dir=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)

DAEMON_MODE=false
DAEMON_NAME=
GC_LOG_ENABLED=false
while [ $# -gt 0 ]; do
  case $1 in
    -name) DAEMON_NAME=$2; shift 2 ;;
    -loggc) GC_LOG_ENABLED=true; shift ;;
    -daemon) DAEMON_MODE=true; shift ;;
    *) break ;;
  esac
done
if [ $# -lt 1 ]; then
  echo "$0: no class to run" >&2
  exit 1
fi

# every jar of libs/ except the FileStream example connectors (connect-file-*.jar), which Apache's script leaves off
# the class path since 3.2 (KAFKA-13748): Connect loads them only from a plugin.path that names them
CP=
for f in "$base_dir"/libs/*.jar; do
  [ -e "$f" ] || continue
  case ${f##*/} in
    connect-file-*.jar) ;;
    *) CP="${CP:+$CP:}$f" ;;
  esac
done
if [ -n "$CLASSPATH" ]; then CP="$CP:$CLASSPATH"; fi

: "${LOG_DIR:=$base_dir/logs}"
mkdir -p "$LOG_DIR"

if [ -z "$KAFKA_LOG4J_OPTS" ]; then
  KAFKA_LOG4J_OPTS="-Dlog4j.configuration=file:$base_dir/config/tools-log4j.properties"
fi
KAFKA_LOG4J_OPTS="-Dkafka.logs.dir=$LOG_DIR $KAFKA_LOG4J_OPTS"

if [ -z "$KAFKA_JMX_OPTS" ]; then
  KAFKA_JMX_OPTS="-Dcom.sun.management.jmxremote -Dcom.sun.management.jmxremote.authenticate=false -Dcom.sun.management.jmxremote.ssl=false"
fi
if [ -n "$JMX_PORT" ]; then
  KAFKA_JMX_OPTS="$KAFKA_JMX_OPTS -Dcom.sun.management.jmxremote.port=$JMX_PORT -Dcom.sun.management.jmxremote.rmi.port=$JMX_PORT"
fi

: "${KAFKA_HEAP_OPTS:=-Xmx256M}"
: "${KAFKA_JVM_PERFORMANCE_OPTS:=-server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true}"

if [ -n "$JAVA_HOME" ]; then JAVA="$JAVA_HOME/bin/java"; else JAVA=java; fi

GC_OPTS=
if [ "$GC_LOG_ENABLED" = true ]; then
  GC_OPTS=${KAFKA_GC_LOG_OPTS:-"-Xlog:gc*:file=$LOG_DIR/${DAEMON_NAME:-kafka}-gc.log:time,tags:filecount=10,filesize=100M"}
fi

# the option variables are lists of JVM options: split on spaces, as Kafka's script does
# shellcheck disable=SC2086
if [ "$DAEMON_MODE" = true ]; then
  nohup "$JAVA" $KAFKA_HEAP_OPTS $KAFKA_JVM_PERFORMANCE_OPTS $GC_OPTS $KAFKA_JMX_OPTS $KAFKA_LOG4J_OPTS -cp "$CP" $KAFKA_OPTS "$@" \
    >"$LOG_DIR/${DAEMON_NAME:-kafka}.out" 2>&1 </dev/null &
else
  exec "$JAVA" $KAFKA_HEAP_OPTS $KAFKA_JVM_PERFORMANCE_OPTS $GC_OPTS $KAFKA_JMX_OPTS $KAFKA_LOG4J_OPTS -cp "$CP" $KAFKA_OPTS "$@"
fi
