/**
 * The mlflow role on a simulated host as datalyptica-minimal-5vm.md runs it on VM5 (MLflow 2.19.0, 5001), with its
 * backend store on real PostgreSQL (Debian's 15, the postgresql role, on the same host here; the seeds' Patroni
 * cluster is another role's test). Real software: MLflow 2.19.0 and its 69 dependencies from PyPI, resolved into
 * roles/mlflow/locks, built into a wheelhouse by this machine (cached) and pushed: the host reaches no index.
 * Artifacts proxied by the server: first on a local path (the default), then on S3: real MinIO (the minio role, its
 * release built through the Go module proxy, on the same host) with the seed's datalyptica-ml bucket. The database
 * password is full of shell and systemd metacharacters: the server (systemd's EnvironmentFile) and the schema helper
 * (sh sourcing the same file) must both read it back.
 *   - `--check` on the fresh host says exactly what the first run changes;
 *   - a run is recorded through the REST API (experiment, run, metric, param; read back), an artifact logged through
 *     the server lands in the artifact directory; the schema is at MLflow 2.19.0's alembic head in PostgreSQL;
 *   - secrets only in secrets.env (0640 root:mlflow), not in the unit, the env file or the process list;
 *   - a rerun changes nothing and reinstalls nothing (the venv's files untouched); `--check` then 0 changes;
 *   - a changed setting restarts the server behind its health check; the run is still there;
 *   - the artifact root moved to s3://datalyptica-ml/mlflow (endpoint and keys as variables, the secret key only in
 *     secrets.env): an artifact logged through the server is an object in MinIO, read back through the server.
 */
import { Client } from 'minio';
import { describe, expect, it } from 'vitest';
import { MINIO_RELEASE } from '../../src/sim/artifacts/minio.js';
import { useArtifactMirror } from '../helpers/artifact-mirror.js';
import { changed, failures, handlers, useRoleTest } from '../helpers/role-test.js';

const PG_PASSWORD = `Ml'fl"ow $HOME \`id\` \\x %n; &|`;
const MLFLOW_HEAD = '0584bdc529eb'; // MLflow 2.19.0's last migration (mlflow/store/db_migrations)
const S3_USER = 'orch-minio-root';
const S3_SECRET = 'Minio-root-pw-7"$x`y`';
const art = useArtifactMirror([{ service: 'minio', version: MINIO_RELEASE }]);

const t = useRoleTest({
  name: 'mlflow',
  hosts: [{ name: 'ml1', groups: ['postgresql', 'minio', 'mlflow'], memoryMb: 2560 }],
  playbook: [
    { name: 'os', hosts: 'all', roles: ['common'] },
    { name: 'databases', hosts: 'postgresql', roles: ['postgresql'] },
    { name: 'object storage', hosts: 'minio', roles: ['minio'] },
    { name: 'analytics', hosts: 'mlflow', roles: ['mlflow'] },
  ],
  vars: () => ({
    postgresql_repository: 'distribution',
    postgresql_version: '15',
    postgresql_instances: [{ name: 'main', port: 5432, memory_mb: 256, databases: [{ name: 'mlflow', owner: 'mlflow' }] }],
    postgresql_passwords: { mlflow: PG_PASSWORD },
    artifact_mirror: art.url,
    minio_sha512: art.sha512('minio'),
    minio_root_user: S3_USER,
    minio_root_password: S3_SECRET,
    mlflow_backend_store_uri: `postgresql://mlflow@${t.sim.host('ml1').address}:5432/mlflow`,
    mlflow_backend_store_password: PG_PASSWORD,
    mlflow_database_group: '',
    mlflow_workers: 2,
    mlflow_health_timeout: 90,
  }),
});
const run = (o: { check?: boolean; vars?: Record<string, unknown> } = {}) => t.run({ check: o.check, vars: o.vars });
const api = () => `http://${t.sim.host('ml1').address}:5001`;

async function call(path: string, body?: unknown): Promise<any> {
  const r = await fetch(`${api()}${path}`, body === undefined ? {} : { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const text = await r.text();
  if (!r.ok) throw new Error(`${body === undefined ? 'GET' : 'POST'} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

describe('mlflow: the tracking server on PostgreSQL (datalyptica-minimal-5vm VM5)', () => {
  let predicted: string[] = [];
  let runId = '';
  let exp = '';
  let venvStamp = '';

  it('--check on the fresh host lists what the first run will do', async () => {
    const { code, events } = await run({ check: true });
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    predicted = changed(events);
    for (const p of [
      'ml1 python-venv /opt/mlflow/venv',
      'ml1 file /opt/mlflow/mlflow-2.19.0-py3.11.txt',
      'ml1 file /etc/mlflow/secrets.env',
      `ml1 command mlflow: backend store schema at MLflow 2.19.0's head (postgresql://mlflow@${t.sim.host('ml1').address}:5432/mlflow)`,
      'ml1 unit /etc/systemd/system/mlflow.service',
      'ml1 service mlflow.service',
    ]) {
      expect(predicted).toContain(p);
    }
  });

  it('exactly as --check said; a run recorded through the REST API is read back; an artifact lands in the artifact dir', async () => {
    const t0 = Date.now();
    const { code, events } = await run();
    if (failures(events).length) console.log(`[mlflow] journal:\n${(await t.sh('ml1', 'journalctl -u mlflow --no-pager -n 60 | cut -c1-400')).stdout}`);
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    expect(changed(events).sort()).toEqual([...predicted].sort());
    console.log(`[mlflow] first run ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    expect(await (await fetch(`${api()}/health`)).text()).toBe('OK');
    expect(await (await fetch(`${api()}/version`)).text()).toBe('2.19.0');
    exp = (await call('/api/2.0/mlflow/experiments/create', { name: 'orch-integration' })).experiment_id;
    const created = await call('/api/2.0/mlflow/runs/create', { experiment_id: exp, run_name: 'first', start_time: Date.now() });
    runId = created.run.info.run_id;
    for (const [step, value] of [[0, 0.5], [1, 0.75], [2, 0.875]]) {
      await call('/api/2.0/mlflow/runs/log-metric', { run_id: runId, key: 'accuracy', value, timestamp: Date.now(), step });
    }
    await call('/api/2.0/mlflow/runs/log-parameter', { run_id: runId, key: 'learning_rate', value: '0.01' });
    const history = await call(`/api/2.0/mlflow/metrics/get-history?run_id=${runId}&metric_key=accuracy`);
    expect(history.metrics.map((m: { step: number; value: number }) => [m.step, m.value])).toEqual([[0, 0.5], [1, 0.75], [2, 0.875]]);
    const got = (await call(`/api/2.0/mlflow/runs/get?run_id=${runId}`)).run;
    expect(got.data.params).toEqual([{ key: 'learning_rate', value: '0.01' }]);
    expect(got.data.metrics).toEqual([expect.objectContaining({ key: 'accuracy', value: 0.875, step: 2 })]);
    expect(got.info.artifact_uri).toBe(`mlflow-artifacts:/${exp}/${runId}/artifacts`);

    // an artifact through the server's proxy: stored under the artifact destination on the host
    const put = await fetch(`${api()}/api/2.0/mlflow-artifacts/artifacts/${exp}/${runId}/artifacts/model.txt`, { method: 'PUT', body: 'weights 42\n' });
    expect(put.status).toBe(200);
    expect(await t.on('ml1', `cat /var/lib/mlflow/artifacts/${exp}/${runId}/artifacts/model.txt`)).toBe('weights 42\n');
    expect(await t.on('ml1', `stat -c '%U' /var/lib/mlflow/artifacts/${exp}/${runId}/artifacts/model.txt`)).toBe('mlflow\n');

    // the backend store is PostgreSQL's mlflow database, at MLflow 2.19.0's head revision; the run is a row there
    const psql = (sql: string) => t.on('ml1', `su postgres -c "psql -At -d mlflow -c \\"${sql}\\""`);
    expect((await psql('SELECT version_num FROM alembic_version')).trim()).toBe(MLFLOW_HEAD);
    expect((await psql(`SELECT name FROM runs WHERE run_uuid = '${runId}'`)).trim()).toBe('first');

    // secrets only in secrets.env; the server runs as mlflow, 2 gunicorn workers, no password on a command line
    expect(await t.on('ml1', "stat -c '%a %U %G' /etc/mlflow/secrets.env /etc/mlflow/mlflow.env")).toBe('640 root mlflow\n640 root mlflow\n');
    for (const f of ['/etc/systemd/system/mlflow.service', '/etc/mlflow/mlflow.env']) expect(await t.on('ml1', `cat ${f}`)).not.toContain('Ml\'fl');
    const ps = await t.on('ml1', 'ps -u mlflow -o args=');
    expect(ps).not.toContain('Ml\'fl');
    expect(ps.split('\n').filter((l) => /gunicorn .*mlflow\.server:app/.test(l)).length).toBe(3); // master + 2 workers
    venvStamp = await t.on('ml1', "find /opt/mlflow/venv -newer /opt/mlflow/venv/pyvenv.cfg -type f | wc -l; stat -c '%Y' /opt/mlflow/venv/lib/python3.11/site-packages/mlflow/__init__.py");
  });

  it('a rerun changes nothing and reinstalls nothing; --check then says 0 changes', async () => {
    const t0 = Date.now();
    const again = await run();
    expect(failures(again.events)).toEqual([]);
    expect(changed(again.events)).toEqual([]);
    console.log(`[mlflow] rerun ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const ops = again.events.flatMap((e) => (e.type === 'op-result' && e.result.kind === 'python-venv' ? [e.result.reason] : []));
    expect(ops).toEqual([expect.stringMatching(/^70 pins installed/)]);
    expect(await t.on('ml1', "find /opt/mlflow/venv -newer /opt/mlflow/venv/pyvenv.cfg -type f | wc -l; stat -c '%Y' /opt/mlflow/venv/lib/python3.11/site-packages/mlflow/__init__.py")).toBe(venvStamp);
    const check = await run({ check: true });
    expect(changed(check.events)).toEqual([]);
  });

  it('a changed setting restarts the server behind its health check; the run is still there', async () => {
    const { code, events } = await run({ vars: { mlflow_workers: 3 } });
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    expect(changed(events).filter((c) => !c.includes(' health '))).toEqual(['ml1 unit /etc/systemd/system/mlflow.service']);
    expect(handlers(events)).toEqual(['ml1 reload systemd unit files', 'ml1 restart mlflow', 'ml1 health mlflow']);
    const ps = await t.on('ml1', 'ps -u mlflow -o args=');
    expect(ps.split('\n').filter((l) => /gunicorn .*mlflow\.server:app/.test(l)).length).toBe(4);
    expect((await call(`/api/2.0/mlflow/runs/get?run_id=${runId}`)).run.data.metrics[0].value).toBe(0.875);
    const rerun = await run({ vars: { mlflow_workers: 3 } });
    expect(changed(rerun.events)).toEqual([]);
  });

  it('the artifact root on S3 (MinIO): an artifact logged through the server is an object in the bucket, read back', async () => {
    const address = t.sim.host('ml1').address;
    const s3 = { mlflow_artifacts_destination: 's3://datalyptica-ml/mlflow', mlflow_s3_endpoint_url: `http://${address}:9000`, mlflow_s3_access_key_id: S3_USER, mlflow_s3_secret_access_key: S3_SECRET };
    const { code, events } = await run({ vars: { mlflow_workers: 3, ...s3 } });
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    expect(changed(events).filter((c) => !c.includes(' health ')).sort()).toEqual(['ml1 file /etc/mlflow/mlflow.env', 'ml1 file /etc/mlflow/secrets.env', 'ml1 unit /etc/systemd/system/mlflow.service']);
    expect(await t.on('ml1', 'cat /etc/mlflow/mlflow.env')).toContain(`MLFLOW_S3_ENDPOINT_URL="http://${address}:9000"\n`);
    expect(await t.on('ml1', 'cat /etc/mlflow/mlflow.env /etc/systemd/system/mlflow.service')).not.toContain('Minio-root');

    const put = await fetch(`${api()}/api/2.0/mlflow-artifacts/artifacts/${exp}/${runId}/artifacts/s3-model.txt`, { method: 'PUT', body: 'weights on s3\n' });
    expect(put.status).toBe(200);
    const client = new Client({ endPoint: address, port: 9000, useSSL: false, accessKey: S3_USER, secretKey: S3_SECRET, region: 'us-east-1' });
    const chunks: Buffer[] = [];
    for await (const c of await client.getObject('datalyptica-ml', `mlflow/${exp}/${runId}/artifacts/s3-model.txt`)) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('weights on s3\n');
    expect(await (await fetch(`${api()}/api/2.0/mlflow-artifacts/artifacts/${exp}/${runId}/artifacts/s3-model.txt`)).text()).toBe('weights on s3\n');
    const again = await run({ vars: { mlflow_workers: 3, ...s3 } });
    expect(changed(again.events)).toEqual([]);
  });
});
