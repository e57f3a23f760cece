/**
 * End to end: vps-trio-resource-analysis.md's three VPS (inventory vps-trio) on three simulated hosts, with the
 * services whose roles exist, real software, the document's container limits as MemoryMax= / CPUQuota=:
 *   VPS 1: the two PostgreSQL servers (metadata-db 5433, datalake-db 5432; Debian's 15), MinIO (9000/9001, built
 *          through the Go module proxy), Airflow 2.8.4 with the LocalExecutor on the metadata-db (webserver 8080);
 *   VPS 2: ZooKeeper (Debian's 3.8) and two ClickHouse servers replicating one shard through it (clickhouse-01 on
 *          9000, clickhouse-02 on 19000; Debian's 18.16, the only ClickHouse this machine reaches);
 *   VPS 3: the Spark master (7077, UI 30080) and two workers (1 core, 2g each; Spark 3.5.0 built from PyPI), and
 *          JupyterLab (spark-jupyter, 8888) whose notebooks use that master.
 * The document's start-up order is the phase order: ZooKeeper before ClickHouse, metadata-db before MinIO and Airflow,
 * the master before its workers. The playbook is site.yml's phases plus the analytics-database and processing phases
 * it gets once `orch sim up` builds these artifacts for the demo. No database password is given: the postgresql role
 * generates the owners' (kept on vps1) and Airflow reads airflow's. Checked: a row inserted in one ClickHouse replica
 * is read on the other, both PostgreSQL servers answer their owners with the generated passwords, Airflow's /health is
 * healthy, MinIO is live, SparkPi runs on the two workers, a notebook with no master given
 * runs on the cluster, a second run changes nothing.
 * `npm run e2e -- vps-trio` (not part of `npm test`).
 */
import { describe, expect, it } from 'vitest';
import { MINIO_RELEASE } from '../../src/sim/artifacts/minio.js';
import { useE2E } from '../helpers/e2e.js';
import { changed, failures } from '../helpers/role-test.js';

// the operator's secrets (the document's .env), as an operator passes them with -e @secrets.yml: ClickHouse's admin
// password only (the database owners' are generated)
const SECRETS = { clickhouse_admin_password: 'Clickhouse-e2e-pw-3' };
const e = useE2E({
  inventory: 'vps-trio',
  phases: [
    { name: 'os-preparation', hosts: 'all', roles: ['common'] },
    { name: 'runtimes', hosts: 'zookeeper:spark_master:spark_worker', roles: ['java'] },
    { name: 'coordination-zookeeper', hosts: 'zookeeper', roles: ['zookeeper'] },
    { name: 'databases', hosts: 'postgresql:!patroni', roles: ['postgresql'] },
    { name: 'object-storage', hosts: 'minio', roles: ['minio'] },
    { name: 'analytics-databases', hosts: 'clickhouse', roles: ['clickhouse'] },
    { name: 'processing', hosts: 'spark_master:spark_worker', roles: ['spark'] },
    { name: 'analytics', hosts: 'airflow', roles: ['airflow'] },
    { name: 'notebooks', hosts: 'jupyterlab', roles: ['jupyterlab'] },
  ],
  artifacts: [
    { service: 'spark', version: '3.5.0' },
    { service: 'minio', version: MINIO_RELEASE },
  ],
  vars: (art) => ({ artifact_mirror: art.url, spark_sha512: art.sha512('spark'), minio_sha512: art.sha512('minio'), ...SECRETS }),
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

    // the owners' generated passwords (root reads them on vps1) log in over TCP
    expect((await on('vps1', `PGPASSWORD="$(cat /var/lib/orch/values/db_password_airflow)" psql -h 127.0.0.1 -p 5433 -U airflow -d airflow -tAc 'SELECT current_database()'`)).trim()).toBe('airflow');
    expect((await on('vps1', `PGPASSWORD="$(cat /var/lib/orch/values/db_password_datalake)" psql -h 127.0.0.1 -p 5432 -U datalake -d datalake -tAc 'SELECT current_database()'`)).trim()).toBe('datalake');

    const addr = sim.host('vps3').address;
    const master = JSON.parse(await on('vps3', `curl -fsS http://${addr}:30080/json/`));
    expect(master.aliveworkers).toBe(2);
    const t0 = Date.now();
    const pi = await on('vps3', `. /etc/profile.d/orch-spark.sh; spark-submit --master spark://${addr}:7077 --executor-memory 512m --driver-memory 512m /opt/spark/current/examples/src/main/python/pi.py 10 2>/tmp/pi.err || { tail -40 /tmp/pi.err; exit 1; }`);
    expect(pi).toMatch(/Pi is roughly 3\.1/);
    log(`ClickHouse row replicated; both PostgreSQL servers answer; SparkPi ${pi.trim()} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

  it("VPS 1: Airflow's /health healthy on 8080 (LocalExecutor, the metadata-db), MinIO live; VPS 3: a notebook runs on the Spark master", async () => {
    const a1 = sim.host('vps1').address;
    const health = JSON.parse(await on('vps1', `curl -fsS --max-time 10 http://${a1}:8080/health`));
    expect([health.metadatabase.status, health.scheduler.status]).toEqual(['healthy', 'healthy']);
    expect((await on('vps1', "sed -n 's/^executor = //p' /etc/airflow/airflow.cfg")).trim()).toBe('LocalExecutor');
    expect((await on('vps1', `curl -s -o /dev/null -w '%{http_code}' http://${a1}:9000/minio/health/live`)).trim()).toBe('200');
    expect((await on('vps1', 'systemctl show -p MemoryMax --value minio airflow-webserver airflow-scheduler')).split('\n').filter(Boolean).map(Number)).toEqual([512, 800, 1536].map((mb) => mb * 1024 ** 2));

    const a3 = sim.host('vps3').address;
    expect((await on('vps3', `curl -s -o /dev/null -w '%{http_code}' -H "Authorization: token $(cat /var/lib/orch/values/jupyterlab_token)" http://${a3}:8888/api/status`)).trim()).toBe('200');
    const nb = JSON.stringify({
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
      cells: [{ cell_type: 'code', id: 'sum', metadata: {}, execution_count: null, outputs: [], source: ["from pyspark.sql import SparkSession\n", "spark = SparkSession.builder.appName('e2e-notebook').getOrCreate()\n", "print('master', spark.sparkContext.master)\n", "print('sum', spark.range(1000).selectExpr('sum(id)').collect()[0][0])\n", 'spark.stop()\n'] }],
    });
    await on('vps3', `printf '%s' '${nb.replace(/'/g, `'\\''`)}' > /opt/spark/notebooks/e2e.ipynb && chown jupyter:jupyter /opt/spark/notebooks/e2e.ipynb`);
    const t0 = Date.now();
    await on('vps3', "cd /opt/spark/notebooks && runuser -u jupyter -- sh -c 'set -a; . /etc/jupyterlab/jupyterlab.env; set +a; PATH=/opt/jupyterlab/venv/bin:$PATH; exec jupyter execute --inplace --timeout=600 e2e.ipynb' >/tmp/nb.log 2>&1 || { tail -40 /tmp/nb.log; exit 1; }");
    const done = JSON.parse(await on('vps3', 'cat /opt/spark/notebooks/e2e.ipynb')) as { cells: Array<{ outputs: Array<{ output_type: string; text?: string | string[] }> }> };
    const text = done.cells[0].outputs.filter((o) => o.output_type === 'stream').map((o) => (Array.isArray(o.text) ? o.text.join('') : (o.text ?? ''))).join('');
    expect(text).toContain(`master spark://${a3}:7077\n`);
    expect(text).toContain('sum 499500\n');
    log(`Airflow /health healthy; MinIO live; notebook on the Spark master in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${text.trim().replace(/\n/g, '; ')}`);
  });

  it('a second run changes nothing', () => e.secondRunChangesNothing());
});
