#!/bin/sh
# ZooKeeper's command-line client as Kafka ships it (org.apache.zookeeper.ZooKeeperMainWithTlsSupportForKafka,
# which adds -zk-tls-config-file), connected to the server given first, as Apache Kafka's zookeeper-shell.sh.
# Written by orch for registry-built test artifacts; the environment is that of kafka-run-class.sh.
# Usage: zookeeper-shell.sh zookeeper_host:port[/path] [-zk-tls-config-file file] [args...]
if [ $# -lt 1 ]; then
  echo "USAGE: $0 zookeeper_host:port[/path] [-zk-tls-config-file file] [args...]" >&2
  exit 1
fi
exec "$(dirname -- "$0")/kafka-run-class.sh" org.apache.zookeeper.ZooKeeperMainWithTlsSupportForKafka -server "$@"
