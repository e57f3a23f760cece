/**
 * End to end: vps-trio-resource-analysis.md's three VPS (inventory vps-trio) on three simulated hosts, with the
 * services whose roles exist, real software, the document's container limits as MemoryMax= / CPUQuota=:
 *   VPS 1: the two PostgreSQL servers (metadata-db 5433, datalake-db 5432; Debian's 15);
 *   VPS 2: ZooKeeper (Debian's 3.8) and two ClickHouse servers replicating one shard through it (clickhouse-01 on
 *          9000, clickhouse-02 on 19000; Debian's 18.16, the only ClickHouse this machine reaches);
 *   VPS 3: the Spark master (7077, UI 30080) and two workers (1 core, 2g each; Spark 3.5.0 built from PyPI).
 * The document's start-up order is the phase order: ZooKeeper before ClickHouse, the master before its workers.
 * The playbook is site.yml's phases plus the analytics-database and processing phases it gets once `orch sim up`
 * builds these artifacts for the demo. Airflow, MinIO and JupyterLab have no role yet (not deployed, listed by
 * `orch plan`). Checked: a row inserted in one ClickHouse replica is read on the other, both PostgreSQL servers
 * answer with their owners' passwords, SparkPi runs on the two workers, a second run changes nothing.
 * `npm run e2e -- vps-trio` (not part of `npm test`).
 */
import { describe, expect, it } from 'vitest';
import { useE2E } from '../helpers/e2e.js';
import { changed, failures, handlers } from '../helpers/role-test.js';

// the operator's secrets (the document's .env), as an operator passes them with -e @secrets.yml
const SECRETS = { postgresql_passwords: { airflow: 'Airflow-e2e-pw-1', datalake: 'Datalake-e2e-pw-2' }, clickhouse_admin_password: 'Clickhouse-e2e-pw-3' };
const e = useE2E({
  inventory: 'vps-trio',
  phases: [
    { name: 'os-preparation', hosts: 'all', roles: ['common'] },
    { name: 'runtimes', hosts: 'zookeeper:spark_master:spark_worker', roles: ['java'] },
    { name: 'coordination-zookeeper', hosts: 'zookeeper', roles: ['zookeeper'] },
    { name: 'databases', hosts: 'postgresql:!patroni', roles: ['postgresql'] },
    { name: 'analytics-databases', hosts: 'clickhouse', roles: ['clickhouse'] },
    { name: 'processing', hosts: 'spark_master:spark_worker', roles: ['spark'] },
  ],
  artifacts: [{ service: 'spark', version: '3.5.0' }],
  vars: (art) => ({ artifact_mirror: art.url, spark_sha512: art.sha512('spark'), ...SECRETS }),
});
const { sim, on, log } = e;
const ch = (port: number, sql: string) => on('vps2', `curl -sS --fail --max-time 20 -u 'admin:${SECRETS.clickhouse_admin_password}' 'http://127.0.0.1:${port}/' --data-binary @- <<'SQL'\n${sql}\nSQL`);

describe('vps-trio end to end (three VPS, their landed services)', () => {
  it("the first run deploys every phase in the document's start-up order, each role's health checks passing, under its limits", async () => {
    const t0 = Date.now();
    const { code, events } = await e.run();
    log(`first run: ${((Date.now() - t0) / 1000).toFixed(1)} s, exit ${code}, ${changed(events).length} changes`);
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    const max = (await on('vps2', 'systemctl show -p MemoryMax --value clickhouse-server@01 clickhouse-server@02 zookeeper')).split('\n').filter(Boolean);
    expect(max.map(Number)).toEqual([1843, 1843, 512].map((mb) => mb * 1024 ** 2));
  });

  it('ClickHouse: a row inserted in clickhouse-01 is read in clickhouse-02; PostgreSQL: both servers answer their owners; Spark: SparkPi on both workers', async () => {
    await ch(8123, "CREATE TABLE IF NOT EXISTS default.readings ON CLUSTER vps_cluster (id UInt32, v String) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/readings', '{replica}') ORDER BY id");
    await ch(8123, "INSERT INTO default.readings VALUES (1, 'from-01')");
    let seen = '';
    for (let i = 0; i < 30 && seen.trim() !== 'from-01'; i++) {
      seen = await ch(18123, 'SELECT v FROM default.readings WHERE id = 1');
      if (seen.trim() !== 'from-01') await new Promise((r) => setTimeout(r, 1000));
    }
    expect(seen.trim()).toBe('from-01');
    expect((await ch(18123, 'SELECT count() FROM system.replicas WHERE is_readonly')).trim()).toBe('0');

    expect((await on('vps1', `PGPASSWORD='${SECRETS.postgresql_passwords.airflow}' psql -h 127.0.0.1 -p 5433 -U airflow -d airflow -tAc 'SELECT current_database()'`)).trim()).toBe('airflow');
    expect((await on('vps1', `PGPASSWORD='${SECRETS.postgresql_passwords.datalake}' psql -h 127.0.0.1 -p 5432 -U datalake -d datalake -tAc 'SELECT current_database()'`)).trim()).toBe('datalake');

    const addr = sim.host('vps3').address;
    const master = JSON.parse(await on('vps3', `curl -fsS http://${addr}:30080/json/`));
    expect(master.aliveworkers).toBe(2);
    const t0 = Date.now();
    const pi = await on('vps3', `. /etc/profile.d/orch-spark.sh; spark-submit --master spark://${addr}:7077 --executor-memory 512m --driver-memory 512m /opt/spark/current/examples/src/main/python/pi.py 10 2>/tmp/pi.err || { tail -40 /tmp/pi.err; exit 1; }`);
    expect(pi).toMatch(/Pi is roughly 3\.1/);
    log(`ClickHouse row replicated; both PostgreSQL servers answer; SparkPi ${pi.trim()} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

  it('a second run changes nothing', async () => {
    const t0 = Date.now();
    const { code, events } = await e.run();
    log(`second run: ${((Date.now() - t0) / 1000).toFixed(1)} s, ${changed(events).length} changes`);
    expect(code).toBe(0);
    expect(changed(events)).toEqual([]);
    expect(handlers(events)).toEqual([]);
  });
});
