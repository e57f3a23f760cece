/**
 * End to end: datalyptica-enterprise-50vm.md's coordination, data and streaming tiers (inventory enterprise-50vm) on
 * 17 simulated hosts, with the real software and site.yml's own phases, taken by name:
 *   coordination: etcd01-03 (etcd, Patroni's DCS) and the ZooKeeper ensemble on them (coordination-zookeeper);
 *   data: pg01-03 (Patroni + PostgreSQL, synchronous, 1 synchronous standby) behind lb01-03 (HAProxy + Keepalived
 *         with the VIP: load-balancer);
 *   streaming: kafka01-05 (KRaft, kafka01-03 the controllers) and connect01-03 (Kafka Connect, streaming-connect).
 * (site.yml has no Schema Registry phase yet, and Redis is the IAM tier's.) The simulation's differences are the
 * inventory's sim.yml: Debian's etcd, ZooKeeper, Patroni and PostgreSQL 15, Kafka 3.9.0 built from Maven Central,
 * the VIP an address of the simulation's network, the hosts' memory (11.9 GiB in all) and the heaps scaled to it.
 * Checked as a user of each tier would: etcd healthy with 3 members and a leader, ZooKeeper one leader and two
 * followers; Patroni a leader, a synchronous and an asynchronous replica, a row written through HAProxy's primary
 * port on the VIP read on both replicas and through the replicas port; the KRaft quorum led by one of the 3
 * controllers, 5 brokers registered, a topic of replication factor 3 written and read back; the Connect workers in
 * one cluster; then a second run changes nothing. `npm run e2e -- enterprise-tiers` (not part of `npm test`).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSimFile } from '../../src/inventory/sim-file.js';
import { useE2E } from '../helpers/e2e.js';
import { changed, failures, waitFor } from '../helpers/role-test.js';
import { PROJECT_ROOT } from '../helpers/sim.js';

/** the tiers' hosts (service groups of hosts.yml) and the site.yml phases that place them */
const LIMIT = 'etcd:zookeeper:haproxy:keepalived:patroni:kafka:kafka_connect';
const PHASES = ['os-preparation', 'runtimes', 'coordination', 'coordination-zookeeper', 'load-balancer', 'data-layer', 'streaming', 'streaming-connect'];
// the operator's secret (README.md: patroni_passwords), as an operator passes it with -e @secrets.yml
const SECRETS = { patroni_passwords: { datalyptica: 'Datalyptica-e2e-pw-1' } };
// sim.yml's artifacts (Kafka 3.9.0, also Kafka Connect's), served as the mirror, their sha512 to the variables it names
const SIM = loadSimFile(join(PROJECT_ROOT, 'inventories', 'enterprise-50vm'))!;
const ARTIFACTS = SIM.artifacts.filter((a): a is { service: string; version: string; sha512Vars?: string[] } => 'service' in a);

const e = useE2E({
  inventory: 'enterprise-50vm',
  playbook: 'playbooks/site.yml',
  only: PHASES,
  limit: LIMIT,
  artifacts: ARTIFACTS.map(({ service, version }) => ({ service, version })),
  vars: (art) => ({
    artifact_mirror: art.url,
    ...Object.fromEntries(ARTIFACTS.flatMap((a) => (a.sha512Vars ?? [`${a.service}_sha512`]).map((v) => [v, art.sha512(a.service)]))),
    ...SECRETS,
  }),
});
const { sim, on, log, plan } = e;
const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${String(i + 1).padStart(2, '0')}`);
const ETCD = names('etcd', 3);
const LB = names('lb', 3);
const PG = names('pg', 3);
const KAFKA = names('kafka', 5);
const CONNECT = names('connect', 3);
const addr = (h: string) => sim.host(h).address;
/** a command with Kafka's tools on PATH and a small heap for them */
const kafka = (host: string, cmd: string) =>
  on(host, `export JAVA_HOME=$(dirname $(dirname $(readlink -f $(command -v java)))) KAFKA_HEAP_OPTS=-Xmx200m LOG_DIR=/tmp/kafka-cli PATH=/opt/kafka/current/bin:$PATH\n${cmd}`);
const etcdctl = (args: string) => on('etcd01', `ETCDCTL_API=3 etcdctl --endpoints=http://127.0.0.1:2379 ${args}`);
const psqlLocal = (host: string, sql: string, db = 'datalyptica') => on(host, `runuser -u postgres -- psql -X -At -h /var/run/postgresql -p 5432 -d ${db} -c "${sql}"`);
/** psql as the database's owner from `via`, through HAProxy on the VIP (5000: the primary, 5001: the replicas) */
const throughVip = (via: string, port: number, sql: string) =>
  on(via, `PGPASSWORD='${SECRETS.patroni_passwords.datalyptica}' psql -X -q -At -v ON_ERROR_STOP=1 -h ${vip()} -p ${port} -U datalyptica -d datalyptica -c "${sql}"`);
const vip = () => sim.state.addresses!.keepalived_vip;
const httpCode = async (host: string, url: string) => (await on(host, `curl -s -o /dev/null -w '%{http_code}' --max-time 10 ${url} || true`)).trim();

let leader = '';
let clusterId = '';

describe('enterprise-50vm end to end: the coordination, data and streaming tiers', () => {
  it("the first run deploys site.yml's phases of the three tiers on their 17 hosts, each role's health checks passing", async () => {
    const p = await plan();
    const hostsOf = (phase: string) => p.phases.find((x) => x.phase.name === phase)!.hosts.map((h) => h.name);
    expect(p.phases.map((x) => x.phase.name)).toEqual(PHASES);
    expect(hostsOf('os-preparation').sort()).toEqual([...LB, ...PG, ...ETCD, ...KAFKA, ...CONNECT].sort());
    expect([hostsOf('coordination'), hostsOf('coordination-zookeeper'), hostsOf('load-balancer'), hostsOf('data-layer'), hostsOf('streaming'), hostsOf('streaming-connect')]).toEqual([ETCD, ETCD, LB, PG, KAFKA, CONNECT]);
    expect(sim.hosts).toHaveLength(17);
    const mem = Object.fromEntries(sim.state.hosts.map((h) => [h.name, h.memoryMb]));
    log(`17 simulated hosts, ${sim.state.hosts.reduce((s, h) => s + (h.memoryMb ?? 0), 0)} MiB in all; VIP ${vip()}`);
    expect([mem.etcd01, mem.lb01, mem.pg01, mem.kafka01, mem.connect01]).toEqual([576, 384, 768, 1024, 640]);
    const t0 = Date.now();
    const { code, events } = await e.run();
    log(`first run: ${((Date.now() - t0) / 1000).toFixed(1)} s, exit ${code}, ${changed(events).length} changes`);
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
  });

  it('coordination: etcd healthy with 3 members and one leader; ZooKeeper one leader and two followers', async () => {
    const members = (await etcdctl('member list')).trim().split('\n');
    expect(members.map((m) => m.split(', ')[2]).sort()).toEqual(ETCD);
    expect(members.every((m) => m.split(', ')[1] === 'started')).toBe(true);
    const health = await etcdctl('endpoint health --cluster 2>&1');
    expect(health.match(/is healthy/g)).toHaveLength(3);
    // endpoint status as a table: exactly one member is the leader (the JSON's uint64 ids do not survive JSON.parse)
    const rows = (await etcdctl('endpoint status --cluster -w table')).split('\n').filter((l) => l.startsWith('|')).map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
    const col = rows[0].indexOf('IS LEADER');
    expect(rows.slice(1)).toHaveLength(3);
    expect(rows.slice(1).filter((r) => r[col] === 'true')).toHaveLength(1);
    const modes = await Promise.all(ETCD.map(async (h) => /^Mode: (\w+)$/m.exec(await on(h, 'printf srvr | nc -w 5 127.0.0.1 2181'))?.[1]));
    expect(modes.sort()).toEqual(['follower', 'follower', 'leader']);
  });

  it("data: Patroni has a leader, a synchronous and an asynchronous replica; a row written through HAProxy's primary port on the VIP is read on both replicas", async () => {
    // Keepalived: the VIP on lb01 (MASTER) only
    const holders = await Promise.all(LB.map(async (h) => (await on(h, `ip -4 -o addr show | grep -cF ' ${vip()}/' || true`)).trim()));
    expect(holders).toEqual(['1', '0', '0']);
    // Patroni names its synchronous standby a loop after the replicas start streaming
    const { value: list, seconds } = await waitFor(
      async () => JSON.parse(await on('pg01', 'patronictl -c /etc/patroni/config.yml list -f json')) as Array<{ Member: string; Role: string; State: string }>,
      (l) => l.map((m) => m.Role).sort().join() === 'Leader,Replica,Sync Standby' && l.every((m) => ['running', 'streaming'].includes(m.State)),
      60_000,
      1000,
    );
    log(`patronictl list (${seconds.toFixed(1)} s after the run): ${list.map((m) => `${m.Member} ${m.Role} ${m.State}`).join(', ')}`);
    expect(list.map((m) => m.Role).sort()).toEqual(['Leader', 'Replica', 'Sync Standby']);
    leader = list.find((m) => m.Role === 'Leader')!.Member;
    const replicas = PG.filter((h) => h !== leader);
    // the REST API HAProxy's checks use: /primary on the leader only, /replica on the others
    for (const h of PG) expect([h, await httpCode(h, 'http://127.0.0.1:8008/primary'), await httpCode(h, 'http://127.0.0.1:8008/replica')]).toEqual(h === leader ? [h, '200', '503'] : [h, '503', '200']);
    // PostgreSQL sized from the simulated host's 768 MiB (the role's 25%), the document's max_connections
    expect((await psqlLocal(leader, 'show shared_buffers', 'postgres')).trim()).toBe('192MB');
    expect((await psqlLocal(leader, 'show max_connections', 'postgres')).trim()).toBe('500');
    // through the VIP (lb01's HAProxy) from a replica's host: the primary port reaches the leader
    expect((await throughVip(replicas[0], 5000, 'select pg_is_in_recovery(), inet_server_addr()')).trim()).toBe(`f|${addr(leader)}`);
    await throughVip(replicas[0], 5000, "create table if not exists e2e_tiers (v text); insert into e2e_tiers values ('written through the VIP')");
    for (const r of replicas) {
      const { value } = await waitFor(async () => (await psqlLocal(r, 'select v from e2e_tiers').catch(() => '')).trim(), (v) => v === 'written through the VIP', 30_000, 500);
      expect([r, value]).toEqual([r, 'written through the VIP']);
    }
    // and the replicas port serves it from a replica
    expect((await throughVip(leader, 5001, 'select pg_is_in_recovery(), v from e2e_tiers')).trim()).toBe('t|written through the VIP');
  });

  it('streaming: the KRaft quorum is led by one of the 3 controllers, 5 brokers are registered, a topic of replication factor 3 is written and read back; the Connect workers form one cluster', async () => {
    const status = await kafka('kafka04', `kafka-metadata-quorum.sh --bootstrap-server ${addr('kafka04')}:9092 describe --status`);
    const leaderId = Number(/^LeaderId:\s*(-?\d+)/m.exec(status)?.[1]);
    expect([1, 2, 3]).toContain(leaderId);
    const voters = /^CurrentVoters:\s*(.*)$/m.exec(status)?.[1] ?? '';
    expect([...voters.matchAll(/"id":\s*(\d+)|(?<=[[,])\s*(\d+)(?=[\],])/g)].map((m) => Number(m[1] ?? m[2])).sort()).toEqual([1, 2, 3]);
    clusterId = /^ClusterId:\s*(\S+)/m.exec(status)![1];
    const brokers = await kafka('kafka01', `kafka-broker-api-versions.sh --bootstrap-server ${addr('kafka01')}:9092 | grep -o '(id: [0-9]*' | sort`);
    expect(brokers).toBe('(id: 1\n(id: 2\n(id: 3\n(id: 4\n(id: 5\n');
    log(`KRaft leader ${leaderId}, voters ${voters}, 5 brokers registered`);

    await kafka('kafka05', `kafka-topics.sh --bootstrap-server ${addr('kafka05')}:9092 --create --if-not-exists --topic e2e-tiers --partitions 6 --replication-factor 3`);
    // every partition's 3 replicas in sync (followers catch up a moment after the creation)
    const isrSizes = (d: string) => [...d.matchAll(/\bIsr: ([0-9,]+)/g)].map((m) => m[1].split(',').length);
    const { value: d } = await waitFor(() => kafka('kafka02', `kafka-topics.sh --bootstrap-server ${addr('kafka02')}:9092 --describe --topic e2e-tiers`), (x) => isrSizes(x).join() === '3,3,3,3,3,3', 30_000, 1000);
    expect(d).toMatch(/PartitionCount: 6\s+ReplicationFactor: 3/);
    expect(isrSizes(d)).toEqual([3, 3, 3, 3, 3, 3]);
    // the document's min.insync.replicas 2 (a broker default: not among the topic's own configs)
    expect(await kafka('kafka02', `kafka-configs.sh --bootstrap-server ${addr('kafka02')}:9092 --entity-type brokers --entity-name 2 --describe --all | grep -E '^\\s*min\\.insync\\.replicas='`)).toMatch(/min\.insync\.replicas=2 /);
    await kafka('kafka05', `printf 'e1\\ne2\\ne3\\n' | kafka-console-producer.sh --bootstrap-server ${addr('kafka05')}:9092 --topic e2e-tiers --producer-property acks=all`);
    const got = await kafka('kafka01', `kafka-console-consumer.sh --bootstrap-server ${addr('kafka01')}:9092 --topic e2e-tiers --from-beginning --max-messages 3 --timeout-ms 60000 2>/dev/null | sort`);
    expect(got).toBe('e1\ne2\ne3\n');

    for (const w of CONNECT) {
      const root = JSON.parse(await on(w, `curl -fsS --max-time 20 http://${addr(w)}:8083/`)) as { version: string; kafka_cluster_id: string };
      expect([w, root.version, root.kafka_cluster_id]).toEqual([w, '3.9.0', clusterId]);
      expect(JSON.parse(await on(w, `curl -fsS --max-time 20 http://${addr(w)}:8083/connectors`))).toEqual([]);
    }
    // the internal topics, replicated 3 times (min(3, brokers))
    for (const t of ['connect-configs', 'connect-offsets', 'connect-status']) {
      expect(await kafka('kafka03', `kafka-topics.sh --bootstrap-server ${addr('kafka03')}:9092 --describe --topic ${t} | head -1`)).toMatch(/ReplicationFactor: 3/);
    }
    log(`topic e2e-tiers (6 partitions, RF 3, ISR 3) written and read back; 3 Connect workers on cluster ${clusterId}`);
  });

  it('a second run changes nothing', () => e.secondRunChangesNothing());
});
