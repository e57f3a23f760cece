/**
 * The clickhouse role on 2 simulated hosts with the real ClickHouse server (Debian bookworm's clickhouse-server
 * 18.16, `clickhouse_source: distribution`: the only ClickHouse this machine reaches; the production default, 24.12
 * from ClickHouse's repository, is unit-tested) and ZooKeeper from the zookeeper role (Debian's package) as the
 * coordination service, laid out as vps-trio-resource-analysis.md's VPS 2: on ch1 ZooKeeper and two replicas of one
 * shard as instances (clickhouse-01 native 9000, clickhouse-02 19000, their resource limits), plus ch2 with a
 * third replica, the host's single server:
 *   - `--check` on fresh hosts says exactly what the first run then changes;
 *   - every server answers SELECT 1 over HTTP with the admin user's password (generated once: the engine's copy),
 *     none with a wrong one; users.d holds the sha256, no file under /etc/clickhouse-server the password;
 *   - a ReplicatedMergeTree table created ON CLUSTER exists on the three replicas; a row inserted through one is
 *     read through the two others; no replica is read-only;
 *   - a second run and a `--check` change nothing;
 *   - a changed setting restarts the three servers, one host at a time behind the health check, the row kept.
 */
import { describe, expect, it } from 'vitest';
import { changed, failures, handlers, useRoleTest, waitFor } from '../helpers/role-test.js';

const INSTANCES = [
  { id: '01', tcp_port: 9000, http_port: 8123, interserver_port: 9009 },
  { id: '02', tcp_port: 19000, http_port: 18123, interserver_port: 19009 },
];
const t = useRoleTest({
  name: 'clickhouse',
  hosts: [
    {
      name: 'ch1',
      groups: ['zookeeper', 'clickhouse'],
      memoryMb: 2048,
      vars: { node_id: 1, clickhouse_instances: INSTANCES, resource_limits: { 'clickhouse-01': { memory_mb: 700, cpus: 0.9 }, 'clickhouse-02': { memory_mb: 700, cpus: 0.9 } } },
    },
    { name: 'ch2', groups: ['clickhouse'], memoryMb: 1024 },
  ],
  inventoryVars: {
    zookeeper_source: 'package',
    zookeeper_user: 'zookeeper',
    zookeeper_heap: '128m',
    clickhouse_source: 'distribution',
    clickhouse_cluster_name: 'vps_cluster',
  },
  playbook: [
    { name: 'os', hosts: 'all', roles: ['common'] },
    { name: 'runtimes', hosts: 'zookeeper', roles: ['java'] },
    { name: 'coordination', hosts: 'zookeeper', roles: ['zookeeper'] },
    { name: 'analytics databases', hosts: 'clickhouse', roles: ['clickhouse'] },
  ],
});
const run = (check = false) => t.run({ check });
const { on, sh } = t;
// the three servers: host and HTTP port
const SERVERS: Array<[string, number]> = [
  ['ch1', 8123],
  ['ch1', 18123],
  ['ch2', 8123],
];
let password = '';
const query = (host: string, port: number, sql: string, pw = password) =>
  sh(host, `curl -sS --max-time 20 -u 'admin:${pw}' 'http://127.0.0.1:${port}/' --data-binary @- <<'SQL'\n${sql}\nSQL`);

describe('clickhouse: two replicas on one host (instances) and one on another, ZooKeeper-replicated', () => {
  let predicted: string[] = [];

  it('--check on fresh hosts lists what the first run will do', async () => {
    const { code, events } = await run(true);
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    predicted = changed(events);
    expect(predicted).toContain('ch1 file /etc/clickhouse-server/instances/01/config.d/orch.xml');
    expect(predicted).toContain('ch1 file /etc/clickhouse-server/instances/02/users.d/orch.xml');
    expect(predicted).toContain('ch2 file /etc/clickhouse-server/config.d/orch.xml');
    expect(predicted).toContain('ch2 packages clickhouse-server, clickhouse-client, curl');
  });

  it('converges exactly as --check said; every server answers SELECT 1 with the admin password, none with a wrong one', async () => {
    const { code, events } = await run();
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    expect(changed(events).sort()).toEqual([...predicted].sort());

    // the generated password: the engine's copy (root-only); the same on both hosts
    password = (await on('ch1', 'cat /var/lib/orch/values/clickhouse_admin_password')).trim();
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect((await on('ch2', 'cat /var/lib/orch/values/clickhouse_admin_password')).trim()).toBe(password);
    for (const [h, port] of SERVERS) {
      const ok = await query(h, port, 'SELECT 1');
      expect(ok.stdout, `${h}:${port}`).toBe('1\n');
      const bad = await query(h, port, 'SELECT 1', 'wrong-password');
      expect(bad.stdout).toMatch(/Code: 19[23]|password|Authentication/i);
    }
    // users.d has the sha256; no file of the server's config has the password
    expect(await on('ch2', 'cat /etc/clickhouse-server/users.d/orch.xml')).toMatch(/<password_sha256_hex>[0-9a-f]{64}<\/password_sha256_hex>/);
    expect((await sh('ch1', `grep -rlF -- '${password}' /etc/clickhouse-server /etc/systemd/system`)).stdout).toBe('');
    // the 18.16 server reads <yandex> drop-ins; two instances, each its own unit, ports, data dir and limits
    expect(await on('ch1', 'head -n 3 /etc/clickhouse-server/instances/02/config.d/orch.xml')).toContain('<yandex>');
    expect(await on('ch1', 'systemctl is-active clickhouse-server@01 clickhouse-server@02; systemctl is-enabled clickhouse-server || :')).toBe('active\nactive\ndisabled\n');
    expect(await on('ch1', 'systemctl show -p MemoryMax --value clickhouse-server@02')).toBe(`${700 * 1024 * 1024}\n`);
    expect(await on('ch1', 'ls /data/clickhouse')).toBe('01\n02\n');
    expect(await on('ch1', "ss -ltn | awk '{print $4}' | grep -E ':(9000|19000|8123|18123|9009|19009)$' | sed 's/.*://' | sort -n | tr '\\n' ' '")).toBe('8123 9000 9009 18123 19000 19009 ');
  });

  it('a ReplicatedMergeTree table created ON CLUSTER gets a row inserted on one replica, read on the others; no replica read-only', async () => {
    const ddl = await query(
      'ch1',
      8123,
      "CREATE TABLE default.events ON CLUSTER vps_cluster (id UInt32, v String) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/default/events', '{replica}') ORDER BY id",
    );
    expect(ddl.code, ddl.stdout + ddl.stderr).toBe(0);
    expect(ddl.stdout).not.toMatch(/Exception/);
    for (const [h, port] of SERVERS) {
      const { value } = await waitFor(() => query(h, port, "SELECT count() FROM system.tables WHERE database = 'default' AND name = 'events'").then((r) => r.stdout), (v) => v === '1\n', 60_000);
      expect(value, `table on ${h}:${port}`).toBe('1\n');
    }
    const ins = await query('ch1', 18123, "INSERT INTO default.events VALUES (1, 'written on clickhouse-02')");
    expect(ins.stdout + ins.stderr).toBe('');
    for (const [h, port] of [SERVERS[0], SERVERS[2]]) {
      const { value, seconds } = await waitFor(() => query(h, port, 'SELECT id, v FROM default.events FORMAT TSV').then((r) => r.stdout), (v) => v.includes('written'), 60_000);
      expect(value, `read on ${h}:${port} after ${seconds}s`).toBe('1\twritten on clickhouse-02\n');
      console.log(`row written on ch1:18123 read on ${h}:${port} after ${seconds} s`);
    }
    for (const [h, port] of SERVERS) {
      expect((await query(h, port, 'SELECT count() FROM system.replicas WHERE is_readonly')).stdout, `${h}:${port}`).toBe('0\n');
      expect((await query(h, port, "SELECT total_replicas, active_replicas FROM system.replicas WHERE table = 'events' FORMAT TSV")).stdout).toBe('3\t3\n');
    }
    const macros = await query('ch1', 18123, "SELECT substitution FROM system.macros WHERE macro = 'replica'");
    expect(macros.stdout).toBe('ch1-02\n');
  });

  it('a second run and a --check change nothing', async () => {
    const again = await run();
    expect(failures(again.events)).toEqual([]);
    expect(again.code).toBe(0);
    expect(changed(again.events)).toEqual([]);
    const check = await run(true);
    expect(check.code).toBe(0);
    expect(changed(check.events)).toEqual([]);
  });

  it('a changed setting restarts every server, one host at a time behind the health check; the row stays on all three', async () => {
    const pids = () => Promise.all([on('ch1', 'systemctl show -p MainPID --value clickhouse-server@01 clickhouse-server@02'), on('ch2', 'systemctl show -p MainPID --value clickhouse-server')]);
    const before = await pids();
    const t0 = Date.now();
    const { code, events } = await t.run({ vars: { clickhouse_distributed_ddl_path: '/clickhouse/task_queue/ddl-orch' } });
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    const seq = handlers(events);
    expect(seq.filter((h) => h.includes(' restart ')).sort()).toEqual(['ch1 restart clickhouse-server@01.service', 'ch1 restart clickhouse-server@02.service', 'ch2 restart clickhouse-server']);
    // one host after the other (never interleaved), each host's restarts followed by its health check
    const hosts = seq.map((h) => h.split(' ')[0]);
    expect(hosts.join(' ')).toMatch(/^(ch1 ch1 ch1 ch2 ch2|ch2 ch2 ch1 ch1 ch1)$/);
    for (const h of ['ch1', 'ch2']) expect(seq.filter((x) => x.startsWith(`${h} `)).pop()).toBe(`${h} health clickhouse`);
    const after = await pids();
    after.forEach((p, i) => expect(p).not.toBe(before[i]));
    console.log(`rolling restart of 3 servers on 2 hosts: ${(Date.now() - t0) / 1000} s`);
    for (const [h, port] of SERVERS) {
      const { value } = await waitFor(() => query(h, port, 'SELECT count() FROM default.events').then((r) => r.stdout), (v) => v === '1\n', 30_000);
      expect(value, `${h}:${port}`).toBe('1\n');
    }
  });
});
