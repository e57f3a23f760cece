/**
 * The minio role offline, against vps-trio-resource-analysis.md (VPS 1: minio/minio:RELEASE.2025-09-07, API 9000,
 * console 9001, /minio_datalake, 0.2 CPU / 512 MB) and datalyptica-minimal-5vm.md (the buckets datalyptica-warehouse,
 * -staging, -backups, -ml): defaults, the drives and MINIO_VOLUMES of each layout, the environment files, the unit
 * with its resource controls, validate, the operations and the bucket operation (driven through this machine's sh
 * with a stand-in curl). The real servers: test/integration/role-minio.test.ts.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import minio, { controls, minioReleaseOf } from '../../roles/minio/index.js';
import { bucketsOp, curlConfig, curlConfigValue, type BucketsOptions } from '../../roles/minio/buckets.js';
import { CONFIG_FILE, SECRETS_FILE, configEnv, drives, erasureSetSize, healthCommand, layoutProblems, secretsEnv, topology, unit, volumes, type MinioVars } from '../../roles/minio/render.js';
import type { Plan } from '../../src/ops/types.js';
import type { PeerHost, RoleContext } from '../../src/role/define.js';
import { sh, tmp } from './ops-harness.js';
import { defaultsOf, named, peer, roleContext, written } from './role-harness.js';

const DEFAULTS = defaultsOf(minio) as unknown as MinioVars;
const mv = (over: Partial<MinioVars> = {}): MinioVars => ({ ...DEFAULTS, minio_root_user: 'admin', minio_root_password: 'password-1', ...over });
const SEED_BUCKETS = ['datalyptica-warehouse', 'datalyptica-staging', 'datalyptica-backups', 'datalyptica-ml'];
const RELEASE = 'RELEASE.2025-09-07T16-13-09Z';

// vps-trio-resource-analysis.md: VPS 1 runs MinIO (its address is not given: a documentation address here)
const TRIO: PeerHost[] = [peer('vps1', '192.0.2.11', ['minio', 'postgresql']), peer('vps2', '192.0.2.12', ['clickhouse']), peer('vps3', '192.0.2.13', ['spark_master'])];
// a distributed deployment of 4 hosts
const FOUR: PeerHost[] = ['s1', 's2', 's3', 's4'].map((n, i) => peer(n, `192.0.2.${21 + i}`, ['minio']));

function ctx(o: { peers?: PeerHost[]; host?: string; vars?: Record<string, unknown>; hostVars?: Record<string, unknown> } = {}): RoleContext<any> {
  const peers = (o.peers ?? TRIO).map((p) => (p.name === (o.host ?? 'vps1') ? { ...p, vars: { ...p.vars, ...o.hostVars } } : p));
  return roleContext(minio, { peers, host: o.host ?? 'vps1', vars: { minio_root_user: 'admin', minio_root_password: 'password-1', ...o.vars } });
}
const change = (p: Plan) => p as Extract<Plan, { status: 'change' }>;

describe('minio: defaults from the seeds', () => {
  it("vps-trio's release, ports, data dir and container limits; datalyptica-minimal-5vm's buckets", () => {
    expect(DEFAULTS).toMatchObject({
      minio_version: RELEASE,
      minio_api_port: 9000,
      minio_console_port: 9001,
      minio_data_dir: '/minio_datalake',
      minio_drives_per_host: 1,
      minio_memory_max: '512M',
      minio_cpu_quota: '20%',
      minio_buckets: SEED_BUCKETS,
      minio_group: 'minio',
    });
    // the root credentials have no default: the run refuses them empty (secrets)
    expect(minio.vars.minio_root_user.secret && minio.vars.minio_root_password.secret).toBe(true);
    expect(DEFAULTS.minio_root_password).toBe('');
  });

  it('the release per architecture: the catalogue (sha256 of the official binary), or the inventory\'s sha512 for another', () => {
    expect(minioReleaseOf(RELEASE, 'amd64', '')).toMatchObject({ sha256: '7c5bd8512c6e966455b1d198209358b2d191c77a83ab377c4073281065fb855f', path: `server/minio/release/linux-amd64/archive/minio.${RELEASE}` });
    expect(minioReleaseOf('RELEASE.2025-10-15T17-29-55Z', 'amd64', '')).toBeUndefined();
    const other = minioReleaseOf('RELEASE.2025-10-15T17-29-55Z', 'arm64', 'AB'.repeat(64));
    expect(other).toMatchObject({ sha512: 'ab'.repeat(64), path: 'server/minio/release/linux-arm64/archive/minio.RELEASE.2025-10-15T17-29-55Z' });
    expect(other?.sha256).toBeUndefined();
  });
});

describe('minio: drives and MINIO_VOLUMES', () => {
  const n = (k: number) => FOUR.slice(0, k).map((p) => ({ name: p.name, address: p.address }));

  it('one host, one drive: the data dir alone (single-drive mode, as vps-trio runs it)', () => {
    expect(drives(mv())).toEqual(['/minio_datalake']);
    expect(volumes(n(1), mv())).toBe('/minio_datalake');
    expect(topology(n(1), mv())).toBe('single-drive');
    expect(layoutProblems(n(1), mv())).toEqual([]);
  });

  it('one host, 4 drives: disk1..4 under the data dir, erasure coded', () => {
    const v = mv({ minio_drives_per_host: 4, minio_data_dir: '/data/minio/' });
    expect(drives(v)).toEqual(['/data/minio/disk1', '/data/minio/disk2', '/data/minio/disk3', '/data/minio/disk4']);
    expect(volumes(n(1), v)).toBe('/data/minio/disk1 /data/minio/disk2 /data/minio/disk3 /data/minio/disk4');
    expect(topology(n(1), v)).toBe('single-node-multi-drive');
  });

  it('several hosts: every drive of every host by address and API port, hosts in inventory order', () => {
    const v = mv({ minio_drives_per_host: 2, minio_api_port: 9100 });
    expect(volumes(n(2), v)).toBe('http://192.0.2.21:9100/minio_datalake/disk1 http://192.0.2.21:9100/minio_datalake/disk2 http://192.0.2.22:9100/minio_datalake/disk1 http://192.0.2.22:9100/minio_datalake/disk2');
    expect(volumes([{ name: 'a', address: '2001:db8::1' }, { name: 'b', address: '2001:db8::2' }], mv({ minio_drives_per_host: 2 }))).toContain('http://[2001:db8::1]:9000/minio_datalake/disk1');
    expect(volumes(n(4), mv())).toBe(['21', '22', '23', '24'].map((x) => `http://192.0.2.${x}:9000/minio_datalake`).join(' '));
    expect(topology(n(2), v)).toBe('distributed');
  });

  it('erasure coding: 4+ drives in total, in a count an erasure set size 2-16 divides', () => {
    expect(layoutProblems(n(2), mv())).toEqual(['minio: 2 hosts x 1 drive(s) = 2 drives: erasure coding needs at least 4 drives in total (set minio_drives_per_host, e.g. 2 per host, or run a single host with one drive)']);
    expect(layoutProblems(n(3), mv())[0]).toMatch(/3 hosts x 1 drive\(s\) = 3 drives: erasure coding needs at least 4/);
    expect(layoutProblems(n(1), mv({ minio_drives_per_host: 2 }))[0]).toMatch(/= 2 drives: erasure coding needs at least 4/);
    expect(layoutProblems(n(2), mv({ minio_drives_per_host: 2 }))).toEqual([]);
    expect(layoutProblems(n(4), mv())).toEqual([]);
    expect(layoutProblems(n(1), mv({ minio_drives_per_host: 17 }))).toEqual(['minio: 17 drive(s) = 17 drives: no erasure set size from 2 to 16 divides 17; choose another minio_drives_per_host']);
    expect([erasureSetSize(4), erasureSetSize(24), erasureSetSize(17), erasureSetSize(34)]).toEqual([4, 12, undefined, 2]);
  });
});

describe('minio: files', () => {
  it('minio.env: volumes, addresses, console, region, the root-drive switch, extra variables; no credentials', () => {
    const env = configEnv([{ name: 'vps1', address: '192.0.2.11' }], mv());
    expect(env).toBe('# Managed by orch (role minio): the server\'s settings (minio server $MINIO_OPTS $MINIO_VOLUMES)\nMINIO_VOLUMES="/minio_datalake"\nMINIO_OPTS="--address :9000 --console-address :9001"\nMINIO_BROWSER="on"\n');
    const more = configEnv([{ name: 'a', address: '192.0.2.1' }], mv({ minio_region: 'eu-north-1', minio_console_enabled: false, minio_allow_root_drive: true, minio_extra_env: { MINIO_PROMETHEUS_AUTH_TYPE: 'public', MINIO_API_REQUESTS_MAX: 400 } }));
    expect(more.split('\n').slice(3)).toEqual(['MINIO_BROWSER="off"', 'MINIO_SITE_REGION="eu-north-1"', 'MINIO_ROOTDRIVE_THRESHOLD_SIZE="1"', 'MINIO_PROMETHEUS_AUTH_TYPE="public"', 'MINIO_API_REQUESTS_MAX="400"', '']);
    expect(env).not.toContain('password-1');
    expect(() => configEnv([], mv({ minio_extra_env: { MINIO_VOLUMES: '/x' } }))).toThrow(/set by the role/);
  });

  it('secrets.env: the root user and password, quoted as systemd reads an EnvironmentFile', () => {
    expect(secretsEnv({ minio_root_user: 'admin', minio_root_password: 'p"w\\$x' })).toBe('# Managed by orch (role minio): the root credentials\nMINIO_ROOT_USER="admin"\nMINIO_ROOT_PASSWORD="p\\"w\\\\\\$x"\n');
    expect(() => secretsEnv({ minio_root_user: 'admin', minio_root_password: 'a\nb' })).toThrow(/newline/);
  });

  it('the unit runs the release\'s binary with both environment files, Type=notify as MinIO\'s own', () => {
    const u = unit(mv(), RELEASE);
    expect(u).toContain(`ExecStart=/opt/minio/releases/${RELEASE}/minio.${RELEASE} server $MINIO_OPTS $MINIO_VOLUMES\n`);
    expect(u).toContain(`AssertFileIsExecutable=/opt/minio/releases/${RELEASE}/minio.${RELEASE}\n`);
    expect(u).toContain(`EnvironmentFile=${CONFIG_FILE}\nEnvironmentFile=${SECRETS_FILE}\n`);
    expect(u).toContain('Type=notify\nUser=minio\nGroup=minio\n');
    expect(u).toContain('TimeoutStartSec=120\n');
  });

  it('health: live for one drive; live and cluster (write quorum) when erasure coded', () => {
    expect(healthCommand('192.0.2.11', mv(), 'single-drive')).toBe('curl -fsS -o /dev/null --max-time 5 http://192.0.2.11:9000/minio/health/live');
    expect(healthCommand('192.0.2.21', mv(), 'distributed')).toBe('curl -fsS -o /dev/null --max-time 5 http://192.0.2.21:9000/minio/health/live && curl -fsS -o /dev/null --max-time 5 http://192.0.2.21:9000/minio/health/cluster');
  });
});

describe('minio: validate, declarations, rollout', () => {
  it('refuses a host outside its group, a layout without erasure quorum, short credentials, colliding ports and keys, an uncatalogued release', () => {
    expect(minio.validate!(ctx())).toEqual([]);
    expect(minio.validate!(ctx({ host: 'vps2' }))).toContain('host vps2 runs minio but is not in group minio');
    expect(minio.validate!(ctx({ peers: FOUR.slice(0, 2), host: 's1' }))[0]).toMatch(/erasure coding needs at least 4 drives/);
    expect(minio.validate!(ctx({ peers: FOUR.slice(0, 2), host: 's1', vars: { minio_drives_per_host: 2 } }))).toEqual([]);
    expect(minio.validate!(ctx({ vars: { minio_root_user: 'ab', minio_root_password: 'short' } }))).toEqual(['minio_root_user: MinIO needs at least 3 characters', 'minio_root_password: MinIO needs at least 8 characters']);
    expect(minio.validate!(ctx({ vars: { minio_console_port: 9000 } }))).toEqual(['minio_api_port and minio_console_port are both 9000']);
    expect(minio.validate!(ctx({ vars: { minio_extra_env: { MINIO_ROOT_PASSWORD: 'x', 'bad-name': 1 } } }))).toEqual(['minio_extra_env.MINIO_ROOT_PASSWORD: set by the role from its own variables', 'minio_extra_env.bad-name: not an environment variable name']);
    expect(minio.validate!(ctx({ vars: { minio_version: 'RELEASE.2025-10-15T17-29-55Z' } }))[0]).toMatch(/not in the artifact catalogue .*set minio_sha512/);
    expect(minio.validate!(ctx({ vars: { minio_version: 'RELEASE.2025-10-15T17-29-55Z', minio_sha512: 'ab'.repeat(64) } }))).toEqual([]);
  });

  it('declares the API and console ports, the drives, and the limits as capacity', () => {
    expect(minio.declares!(ctx())).toEqual({
      ports: [
        { port: 9000, variable: 'minio_api_port', description: 'MinIO S3 API' },
        { port: 9001, variable: 'minio_console_port', description: 'MinIO console' },
      ],
      memoryMb: 512,
      cpus: 0.2,
      dataDirs: ['/minio_datalake'],
      serves: ['minio'],
    });
    expect(minio.declares!(ctx({ vars: { minio_console_enabled: false, minio_memory_max: '', minio_cpu_quota: '' } }))).toEqual({ ports: [{ port: 9000, variable: 'minio_api_port', description: 'MinIO S3 API' }], dataDirs: ['/minio_datalake'], serves: ['minio'] });
    expect(minio.declares!(ctx({ vars: { minio_memory_max: '2G' } })).memoryMb).toBe(2048);
  });

  it("resource controls: the role's (vps-trio's 512 MB / 0.2 CPU) unless the inventory's resource_limits.minio gives some", () => {
    expect(controls(mv(), {})).toEqual({ memoryMax: '512M', cpuQuota: '20%' });
    expect(controls(mv(), { resource_limits: { minio: { memory_mb: 1024, cpus: 0.5 } } })).toEqual({ memoryMax: '1024M', cpuQuota: '50%' });
    expect(controls(mv({ minio_memory_max: '', minio_cpu_quota: '' }), {})).toBeUndefined();
    const u = written(named(minio.operations(ctx()), 'unit', '/etc/systemd/system/minio.service'));
    expect(u).toContain('MemoryMax=512M\nCPUQuota=20%\n');
  });

  it('rollout: a single node behind its health check; a distributed deployment restarts all its hosts at once', () => {
    expect(minio.rollout!(ctx())).toMatchObject({ services: ['minio'], serial: 1, health: { command: healthCommand('192.0.2.11', mv(), 'single-drive') } });
    expect(minio.rollout!(ctx({ peers: FOUR, host: 's3' }))).toMatchObject({ serial: 4, health: { command: healthCommand('192.0.2.23', mv(), 'distributed') } });
  });
});

describe('minio: operations in the install order', () => {
  it('curl, user, the binary (0755), drives, config, secrets, unit, service, health, then the buckets on the first host only', () => {
    const list = minio.operations(ctx());
    expect(list.map((o) => `${o.kind} ${o.name}`)).toEqual([
      'packages curl',
      'group minio',
      'user minio',
      `artifact /opt/minio/releases/${RELEASE}`,
      'dir /minio_datalake',
      'dir /etc/minio',
      `file ${CONFIG_FILE}`,
      `file ${SECRETS_FILE}`,
      'unit /etc/systemd/system/minio.service',
      'service minio.service',
      'health MinIO on vps1: /minio/health/live on 9000',
      `buckets S3 buckets on http://127.0.0.1:9000: ${SEED_BUCKETS.join(', ')}`,
    ]);
    const art = change(named(list, 'artifact')!.plan({ marker: null, dest: null, link: {}, file: null }));
    expect(art.script).toMatch(/chmod 0755 "\$d\/x\/"'?minio\.RELEASE\.2025-09-07T16-13-09Z/);
    expect(named(list, 'file', SECRETS_FILE)!.secret).toBe(true);
    const dist = (h: string) => minio.operations(ctx({ peers: FOUR.slice(0, 2), host: h, vars: { minio_drives_per_host: 2 } })).map((o) => `${o.kind} ${o.name}`);
    expect(dist('s1').filter((x) => x.startsWith('dir /minio'))).toEqual(['dir /minio_datalake', 'dir /minio_datalake/disk1', 'dir /minio_datalake/disk2']);
    expect(dist('s1').some((x) => x.startsWith('buckets '))).toBe(true);
    expect(dist('s2').some((x) => x.startsWith('buckets '))).toBe(false);
    expect(minio.operations(ctx({ vars: { minio_buckets: [] } })).some((o) => o.kind === 'buckets')).toBe(false);
  });
});

describe('minio: the bucket operation', () => {
  const O: BucketsOptions = { endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', accessKey: 'admin', secretKey: 's3"cr\\et$`x', buckets: ['b-one', 'b-two'], service: 'minio', timeoutS: 3, restartOnRefusal: true };

  it("curl's config carries the credentials, quoted for curl", () => {
    expect(curlConfigValue('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(curlConfig(O)).toBe('user = "admin:s3\\"cr\\\\et$`x"\naws-sigv4 = "aws:amz:us-east-1:s3"');
  });

  it('plans from the HEAD codes: ok when all exist; the missing ones; a server not up yet; refused credentials (restart, or skip when distributed)', () => {
    const op = bucketsOp(O);
    const parse = (s: string) => op.fact!.parse(s, 0);
    expect(parse('B|b-one|200\nB|b-two|404\n')).toEqual({ 'b-one': 200, 'b-two': 404 });
    expect(op.plan(parse('B|b-one|200\nB|b-two|200\n'))).toEqual({ status: 'ok', reason: '2 bucket(s) exist: b-one, b-two' });
    expect(change(op.plan(parse('B|b-one|200\nB|b-two|404\n'))).reason).toBe('create b-two');
    expect(change(op.plan(parse(''))).reason).toBe('the server does not answer yet (not installed or not started): create b-one, b-two');
    const refused = change(op.plan(parse('B|b-one|403\nB|b-two|403\n')));
    expect(refused.reason).toMatch(/^the server refuses the root credentials .*restart it with them, then create b-one, b-two$/);
    expect(refused.script.split('\n')[0]).toBe('systemctl restart minio');
    expect(refused.started).toEqual(['minio']);
    expect(bucketsOp({ ...O, restartOnRefusal: false }).plan(parse('B|b-one|403\nB|b-two|403\n'))).toMatchObject({ status: 'skip', reason: expect.stringMatching(/buckets checked on the next run/) });
    expect(bucketsOp({ ...O, buckets: [] }).plan({})).toEqual({ status: 'ok', reason: 'no buckets listed' });
  });

  /** a stand-in curl first on PATH: buckets are files under <dir>/b; it logs its argv and the config it read on stdin */
  function standIn(): { dir: string; env: NodeJS.ProcessEnv } {
    const dir = tmp('orch-minio-curl-');
    writeFileSync(
      join(dir, 'curl'),
      `#!/bin/sh
printf '%s\\n' "$*" >>"${dir}/argv"
cat >>"${dir}/stdin"
[ -f "${dir}/down" ] && { printf 000; exit 7; }
url=""; method=GET
for a in "$@"; do case "$a" in -I) method=HEAD ;; PUT) method=PUT ;; http://*) url=$a ;; esac; done
b="${dir}/b/\${url##*/}"
mkdir -p "${dir}/b"
case $method in
  HEAD) if [ -f "$b" ]; then printf 200; else printf 404; fi ;;
  PUT) if [ -f "$b" ]; then printf 409; else : >"$b"; printf 200; fi ;;
esac
`,
    );
    chmodSync(join(dir, 'curl'), 0o755);
    return { dir, env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, LC_ALL: 'C' } };
  }

  it('through sh: creates only the missing buckets, the credentials on stdin and never in argv; then ok', () => {
    const { dir, env } = standIn();
    const op = bucketsOp(O);
    writeFileSync(join(dir, 'b-placeholder'), '');
    sh(`mkdir -p '${dir}/b' && : >'${dir}/b/b-one'`, env);
    const gather = () => op.fact!.parse(sh(`( ${op.fact!.command}\n) </dev/null 2>/dev/null`, env).stdout, 0);
    const p = change(op.plan(gather()));
    expect(p.reason).toBe('create b-two');
    const r = sh(`( set -e\n${p.script}\n) </dev/null 2>&1`, env);
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, 'b', 'b-two'))).toBe(true);
    const argv = readFileSync(join(dir, 'argv'), 'utf8');
    expect(argv).not.toContain('s3"cr');
    expect(argv).toContain('-X PUT http://127.0.0.1:9000/b-two');
    expect(argv).not.toContain('-X PUT http://127.0.0.1:9000/b-one');
    expect(readFileSync(join(dir, 'stdin'), 'utf8')).toContain('user = "admin:s3\\"cr\\\\et$`x"\naws-sigv4 = "aws:amz:us-east-1:s3"\n');
    expect(op.plan(gather()).status).toBe('ok');
  });

  it('through sh: a server that never answers fails after the timeout, naming it', () => {
    const { dir, env } = standIn();
    writeFileSync(join(dir, 'down'), '');
    const op = bucketsOp(O);
    const p = change(op.plan(op.fact!.parse(sh(`( ${op.fact!.command}\n) </dev/null 2>/dev/null`, env).stdout, 0)));
    const r = sh(`( set -e\n${p.script}\n) </dev/null 2>&1`, env);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('orch: MinIO at http://127.0.0.1:9000 did not accept the root credentials within 3 s (last HTTP status 000)');
  });
});

describe('minio: root credentials generated once when the inventory gives none', () => {
  it('cluster values minio_root_user / minio_root_password of the group (the inventory overrides them), into secrets.env', () => {
    const c = ctx({ vars: { minio_root_user: '', minio_root_password: '' } });
    const cv = minio.clusterValues!(c as any);
    expect(cv.map((x) => [x.name, x.group, x.secret, x.override])).toEqual([
      ['minio_root_user', 'minio', true, 'minio_root_user'],
      ['minio_root_password', 'minio', true, 'minio_root_password'],
    ]);
    const user = cv[0].generate!();
    const password = cv[1].generate!();
    expect(user).toMatch(/^orch-[0-9a-f]{12}$/);
    expect(password).toMatch(/^[0-9a-f]{40}$/);
    expect(minio.validate!({ ...c, vars: { ...c.vars, minio_root_user: user, minio_root_password: password } } as any)).toEqual([]);
    const list = minio.operations({ ...c, cluster: (n: string) => (n === 'minio_root_user' ? user : password) });
    const env = written(list.find((o) => o.name === SECRETS_FILE));
    expect(env).toMatch(new RegExp(`^MINIO_ROOT_USER="?${user}"?$`, 'm'));
    expect(env).toMatch(new RegExp(`^MINIO_ROOT_PASSWORD="?${password}"?$`, 'm'));
  });
});
