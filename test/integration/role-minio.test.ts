/**
 * The minio role on simulated hosts, real software: MinIO built from source through the Go module proxy
 * (src/sim/artifacts/minio.ts: github.com/minio/minio v0.0.0-20260212201848-7aac2a2c5b7c stands in for the seed's
 * RELEASE.2025-09-07T16-13-09Z, which the proxy does not serve), served as the release's file with its sha512.
 *   - m1: a single node as vps-trio-resource-analysis.md's VPS 1 runs it (API 9000, console 9001, /minio_datalake,
 *     the container limits 512 MB / 0.2 CPU as MemoryMax= / CPUQuota=);
 *   - d1, d2: distributed, 2 drives each (4 in all: one erasure set), in a phase of their own.
 * Both with the buckets of datalyptica-minimal-5vm.md. The S3 client is minio-js (npm `minio`, Apache-2.0).
 *   - `--check` on the fresh hosts says exactly what the first run changes;
 *   - the buckets exist; an object put with the S3 client reads back byte for byte (distributed: put through d1, read
 *     through d2); the credentials are only in secrets.env (0640);
 *   - a rerun and a `--check` change nothing; the secrets are in none of the runs' events;
 *   - a new root password on the single node: loaded by one restart, the object still there, then converged.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'minio';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/report/events.js';
import { plainReporter } from '../../src/report/plain.js';
import { MINIO_RELEASE } from '../../src/sim/artifacts/minio.js';
import { useArtifactMirror } from '../helpers/artifact-mirror.js';
import { changed, failures, handlers, useRoleTest } from '../helpers/role-test.js';

const ROOT_USER = 'orch-minio-root';
const ROOT_PASSWORD = 'Minio-root-pw-7"$x';
const NEW_PASSWORD = 'Minio-root-pw-8\\`y';
const BUCKETS = ['datalyptica-warehouse', 'datalyptica-staging', 'datalyptica-backups', 'datalyptica-ml'];
const art = useArtifactMirror([{ service: 'minio', version: MINIO_RELEASE }]);

const t = useRoleTest({
  name: 'minio',
  hosts: [
    { name: 'm1', groups: ['minio_single'], memoryMb: 1024, vars: { minio_group: 'minio_single' } },
    { name: 'd1', groups: ['minio_dist'], memoryMb: 1024, vars: { minio_group: 'minio_dist', minio_drives_per_host: 2, minio_allow_root_drive: true } },
    { name: 'd2', groups: ['minio_dist'], memoryMb: 1024, vars: { minio_group: 'minio_dist', minio_drives_per_host: 2, minio_allow_root_drive: true } },
  ],
  playbook: [
    { name: 'os', hosts: 'all', roles: ['common'] },
    { name: 'object storage (single node)', hosts: 'minio_single', roles: ['minio'] },
    { name: 'object storage (distributed)', hosts: 'minio_dist', roles: ['minio'] },
  ],
  vars: () => ({ artifact_mirror: art.url, minio_sha512: art.sha512('minio'), minio_root_user: ROOT_USER, minio_root_password: ROOT_PASSWORD }),
});
const log = (s: string) => console.log(`[minio] ${s}`);
const client = (host: string, secretKey = ROOT_PASSWORD) => new Client({ endPoint: t.sim.host(host).address, port: 9000, useSSL: false, accessKey: ROOT_USER, secretKey, region: 'us-east-1' });
const bucketNames = async (host: string, secretKey?: string) => (await client(host, secretKey).listBuckets()).map((b) => b.name).sort();
async function readAll(host: string, bucket: string, key: string, secretKey?: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await client(host, secretKey).getObject(bucket, key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
/**
 * What orch prints of a run (plain lines, verbose, with diffs) holds neither credential even without the masking of
 * secret values the command line adds last (test/helpers/run.ts checks every run's masked plain and --json output):
 * the secrets file's diff is marked secret, and no operation's name or reason carries a credential.
 */
function assertNoCredentials(events: RunEvent[]): void {
  const printed: string[] = [];
  const plain = plainReporter({ write: (x) => printed.push(x), mask: (x) => x, verbose: true, diff: true });
  for (const e of events) plain(e);
  const text = printed.join('');
  for (const s of [ROOT_PASSWORD, NEW_PASSWORD, ROOT_USER]) {
    const at = text.indexOf(s);
    expect(at, `a credential in orch's output: ...${text.slice(Math.max(0, at - 200), at)}<credential>`).toBe(-1);
  }
  expect(text).toContain('/etc/minio/secrets.env');
}
const OBJECT = randomBytes(3 * 1024 * 1024 + 17);
const OBJECT_DIST = randomBytes(5 * 1024 * 1024 + 3); // > 5 MiB: minio-js uploads it in parts

describe('minio: single node (vps-trio VPS 1) and distributed (2 hosts x 2 drives), the seed\'s buckets', () => {
  let predicted: string[] = [];

  it('--check on the fresh hosts lists what the first run will do', async () => {
    const { code, events } = await t.run({ check: true });
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    predicted = changed(events);
    for (const p of [
      `m1 artifact /opt/minio/releases/${MINIO_RELEASE}`,
      'm1 file /etc/minio/secrets.env',
      'm1 unit /etc/systemd/system/minio.service',
      'd2 dir /minio_datalake/disk2',
      'd1 file /etc/minio/minio.env',
    ]) {
      expect(predicted).toContain(p);
    }
    // the buckets: once per deployment, by its first host
    expect(predicted.filter((c) => c.includes(' buckets '))).toEqual([`m1 buckets S3 buckets on http://127.0.0.1:9000: ${BUCKETS.join(', ')}`, `d1 buckets S3 buckets on http://127.0.0.1:9000: ${BUCKETS.join(', ')}`]);
    assertNoCredentials(events);
  });

  it('exactly as --check said; the buckets exist; an object put with the S3 client reads back byte for byte', async () => {
    const t0 = Date.now();
    const { code, events } = await t.run();
    if (failures(events).length) for (const h of ['m1', 'd1']) log(`${h}'s journal:\n${(await t.sh(h, 'journalctl -u minio --no-pager -n 40 | cut -c1-300')).stdout}`);
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    expect(changed(events).sort()).toEqual([...predicted].sort());
    assertNoCredentials(events);
    log(`first run ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    for (const h of ['m1', 'd1', 'd2']) expect(await bucketNames(h)).toEqual([...BUCKETS].sort());
    await client('m1').putObject('datalyptica-warehouse', 'iceberg/part-00000.parquet', OBJECT);
    expect((await readAll('m1', 'datalyptica-warehouse', 'iceberg/part-00000.parquet')).equals(OBJECT)).toBe(true);
    // distributed: written through d1, read through d2; both hosts' drives hold erasure-coded parts
    await client('d1').putObject('datalyptica-ml', 'models/m.bin', OBJECT_DIST);
    expect((await readAll('d2', 'datalyptica-ml', 'models/m.bin')).equals(OBJECT_DIST)).toBe(true);
    for (const h of ['d1', 'd2']) {
      expect((await t.on(h, `curl -s -o /dev/null -w '%{http_code}' http://${t.sim.host(h).address}:9000/minio/health/cluster`)).trim()).toBe('200');
      expect((await t.on(h, 'ls -d /minio_datalake/disk1/datalyptica-ml/models/m.bin /minio_datalake/disk2/datalyptica-ml/models/m.bin')).trim().split('\n').length).toBe(2);
    }
    // a wrong password is refused (the S3 API checks the credentials)
    await expect(bucketNames('m1', 'not-the-password')).rejects.toThrow(/signature|Access Denied|does not match/i);

    // the seed's layout and limits; the credentials only in secrets.env
    expect((await t.on('m1', "stat -c '%a %U %G' /etc/minio/secrets.env /etc/minio/minio.env /minio_datalake")).trim()).toBe('640 root minio\n640 root minio\n750 minio minio');
    expect((await t.on('m1', `stat -c '%a' /opt/minio/releases/${MINIO_RELEASE}/minio.${MINIO_RELEASE}`)).trim()).toBe('755');
    const env = await t.on('m1', 'cat /etc/minio/minio.env');
    expect(env).toContain('MINIO_VOLUMES="/minio_datalake"\n');
    expect(env).toContain('MINIO_OPTS="--address :9000 --console-address :9001"\n');
    expect(env).not.toContain(ROOT_PASSWORD);
    const dist = await t.on('d2', 'cat /etc/minio/minio.env');
    const [a1, a2] = ['d1', 'd2'].map((h) => t.sim.host(h).address);
    expect(dist).toContain(`MINIO_VOLUMES="http://${a1}:9000/minio_datalake/disk1 http://${a1}:9000/minio_datalake/disk2 http://${a2}:9000/minio_datalake/disk1 http://${a2}:9000/minio_datalake/disk2"\n`);
    expect((await t.on('m1', 'systemctl show minio -p MemoryMax -p CPUQuotaPerSecUSec -p User -p ActiveState')).trim().split('\n').sort()).toEqual([
      'ActiveState=active',
      'CPUQuotaPerSecUSec=200ms',
      'MemoryMax=536870912',
      'User=minio',
    ]);
    expect((await t.on('m1', 'ps -o user=,args= -p "$(systemctl show -p MainPID --value minio)"')).trim().split(/\s+/)).toEqual(['minio', `/opt/minio/releases/${MINIO_RELEASE}/minio.${MINIO_RELEASE}`, 'server', '--address', ':9000', '--console-address', ':9001', '/minio_datalake']);
    // the console answers on 9001
    expect((await t.on('m1', `curl -s -o /dev/null -w '%{http_code}' http://${t.sim.host('m1').address}:9001/`)).trim()).toBe('200');
  });

  it('a rerun and a --check change nothing', async () => {
    const again = await t.run();
    expect(failures(again.events)).toEqual([]);
    expect(changed(again.events)).toEqual([]);
    expect(handlers(again.events)).toEqual([]);
    assertNoCredentials(again.events);
    const check = await t.run({ check: true });
    expect(changed(check.events)).toEqual([]);
    assertNoCredentials(check.events);
  });

  it('a new root password on the single node is loaded by one restart; the object is still there; then converged', async () => {
    const { code, events } = await t.run({ vars: { minio_root_password: NEW_PASSWORD } });
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    // m1 only (d1/d2 keep theirs, as the run's vars give every host the new one: see below)
    const m1all = changed(events).filter((c) => c.startsWith('m1 ')).sort();
    // the engine's copy of the root password follows the inventory's new one (overrideReplaces), on every host
    expect(changed(events).filter((c) => c.includes(' cluster-value ')).sort()).toEqual(['d1', 'd2', 'm1'].map((h) => `${h} cluster-value minio_root_password`));
    const m1 = m1all.filter((c) => !c.includes(' cluster-value '));
    expect(m1).toEqual([`m1 buckets S3 buckets on http://127.0.0.1:9000: ${BUCKETS.join(', ')}`, 'm1 file /etc/minio/secrets.env', 'm1 health MinIO on m1: /minio/health/live on 9000']);
    // the bucket op restarted it (one restart, no second one from the handler)
    expect(handlers(events).filter((h) => h.startsWith('m1 '))).toEqual([]);
    assertNoCredentials(events);
    expect(await bucketNames('m1', NEW_PASSWORD)).toEqual([...BUCKETS].sort());
    expect((await readAll('m1', 'datalyptica-warehouse', 'iceberg/part-00000.parquet', NEW_PASSWORD)).equals(OBJECT)).toBe(true);
    await expect(bucketNames('m1', ROOT_PASSWORD)).rejects.toThrow();
    // the distributed pair got it too: restarted together by the phase's handlers (the bucket op skipped, saying why)
    expect(handlers(events).filter((h) => !h.startsWith('m1 ')).sort()).toEqual(['d1 health minio', 'd1 restart minio', 'd2 health minio', 'd2 restart minio']);
    expect((await readAll('d2', 'datalyptica-ml', 'models/m.bin', NEW_PASSWORD)).equals(OBJECT_DIST)).toBe(true);
    const rerun = await t.run({ vars: { minio_root_password: NEW_PASSWORD } });
    expect(failures(rerun.events)).toEqual([]);
    expect(changed(rerun.events)).toEqual([]);
    assertNoCredentials(rerun.events);
  });
});
