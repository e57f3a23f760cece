/**
 * minio: MinIO object storage, single node as vps-trio-resource-analysis.md runs it (VPS 1: minio/minio:RELEASE.2025-09-07,
 * API 9000, console 9001, /minio_datalake, 0.2 CPU / 512 MB) and distributed when the group lists several hosts; the
 * buckets of datalyptica-minimal-5vm.md ("Enterprise Object Storage"). See DOC.
 */
import { randomBytes } from 'node:crypto';
import { artifactSource, release, type Release } from '../../src/artifacts/index.js';
import { minioRelease } from '../../src/artifacts/catalogue.js';
import { ops, serviceLimits, type Operation, type ResourceControls } from '../../src/ops/index.js';
import { defineRole } from '../../src/role/define.js';
import { v } from '../../src/role/vars.js';
import { bucketsOp } from './buckets.js';
import {
  BUCKET_PATTERN,
  CONFIG_FILE,
  ETC,
  RELEASE_PATTERN,
  ROLE_ENV,
  ROOT_PASSWORD_MIN,
  ROOT_USER_MIN,
  SECRETS_FILE,
  SEED_BUCKETS,
  SERVICE,
  configEnv,
  drives,
  healthCommand,
  layoutProblems,
  liveCheck,
  releaseArch,
  secretsEnv,
  topology,
  unit,
  type MinioVars,
  type Node,
} from './render.js';

const DOC = `
minio: the MinIO server on every host of group minio (minio_group). One host with one drive is MinIO's single-drive
mode (vps-trio's VPS 1); several hosts, or several drives on one host, are one erasure-coded pool (MINIO_VOLUMES names
every drive of every host as http://<address>:<api port><drive>, hosts in inventory order).

- Release: MinIO's official static binary for the host's architecture (dl.min.io, catalogue
  RELEASE.2025-09-07T16-13-09Z, pinned by sha256), kept whole as /opt/minio/releases/<release>/minio.<release> (mode
  0755; /opt/minio/current links the one in use). MinIO no longer publishes binaries and dl.min.io is reported to
  answer 410 for old ones: give artifact_mirror with a kept copy (same bytes, same sha256), or minio_sha512 with a build
  of your own. The simulated hosts run a source build through the Go module proxy (src/sim/artifacts/minio.ts says
  which commit stands in for the release).
- Drives: minio_data_dir (vps-trio: /minio_datalake) is the drive; with minio_drives_per_host N > 1 the drives are
  <data dir>/disk1..N. Erasure coding needs at least 4 drives in total (e.g. 2 hosts x 2 drives), in a count an
  erasure set size 2-16 divides: checked before any host is touched. Production drives are their own filesystems;
  MinIO refuses erasure drives on the root filesystem unless minio_allow_root_drive (simulated hosts, test VMs).
- Configuration: /etc/minio/minio.env (MINIO_VOLUMES, MINIO_OPTS with --address :<api> --console-address :<console>,
  MINIO_BROWSER, MINIO_SITE_REGION, minio_extra_env) and the root credentials in /etc/minio/secrets.env (0640
  root:minio, from the inventory's secrets: never in orch's output), both read by minio.service (Type=notify, as MinIO's
  own unit). MemoryMax=/CPUQuota= from minio_memory_max / minio_cpu_quota (vps-trio's container limits 512 MB / 0.2 CPU),
  or from the inventory's resource_limits.minio when it gives one.
- Buckets: minio_buckets (the seed's datalyptica-warehouse, -staging, -backups, -ml) are created once through the S3 API
  (curl with AWS SigV4, credentials on curl's stdin) by the first host of the group; a bucket that exists is left as it
  is, one dropped from the list is never deleted. A changed root password: a single node is restarted with it before
  the buckets are checked; a distributed deployment's hosts load it at their restart at the end of the phase (together),
  and the buckets are checked on the next run.
- Health: /minio/health/live on every host; after a restart, with erasure coding, also /minio/health/cluster (write
  quorum; a first start of the service returns only once the pool formed: Type=notify). A restart
  of a distributed deployment restarts every host at once (MinIO's nodes must agree on the pool and credentials; a
  rolling restart would leave them split), then checks each; a single node restarts behind the same check.
`;

export default defineRole({
  name: 'minio',
  doc: DOC,
  description: 'MinIO object storage: single node or distributed (erasure coded), root credentials from secrets, buckets created once, systemd resource controls',
  vars: {
    minio_version: v.str({ default: 'RELEASE.2025-09-07T16-13-09Z', pattern: RELEASE_PATTERN, doc: "MinIO release tag (vps-trio: minio/minio:RELEASE.2025-09-07), from the artifact catalogue or with minio_sha512" }),
    artifact_mirror: v.str({ default: '', emptyAllowed: true, doc: "base URL that replaces https://dl.min.io/ (same path server/minio/release/linux-<arch>/archive/minio.<release>); empty: the official URL" }),
    minio_sha512: v.str({ default: '', pattern: '^(|[0-9a-fA-F]{128})$', emptyAllowed: true, doc: "sha512 of the binary at the mirror when it is not the official one (a build of your own); empty: the catalogue's sha256" }),
    minio_install_root: v.str({ default: '/opt/minio', pattern: '^/', doc: 'releases under ROOT/releases/RELEASE, linked as ROOT/current' }),
    minio_user: v.str({ default: 'minio', doc: 'service user (and group), owner of the drives' }),
    minio_group: v.str({ default: 'minio', doc: 'inventory group of the MinIO hosts: one host is a single node, several one distributed pool' }),
    minio_api_port: v.port({ default: 9000, doc: 'S3 API (vps-trio: 9000)' }),
    minio_console_port: v.port({ default: 9001, doc: 'web console (vps-trio: 9001)' }),
    minio_console_enabled: v.bool({ default: true, doc: 'MINIO_BROWSER: serve the console on minio_console_port' }),
    minio_data_dir: v.str({ default: '/minio_datalake', pattern: '^/', doc: 'the drive, or with several drives per host their parent (vps-trio: /minio_datalake)' }),
    minio_drives_per_host: v.int({ default: 1, minimum: 1, maximum: 64, doc: 'drives per host: 1 is the data dir itself; N > 1 are <data dir>/disk1..N (erasure coding needs 4+ drives in total)' }),
    minio_allow_root_drive: v.bool({ default: false, doc: 'use erasure drives on the root filesystem (MINIO_ROOTDRIVE_THRESHOLD_SIZE=1): for simulated hosts and test VMs; MinIO refuses them otherwise' }),
    minio_region: v.str({ default: '', emptyAllowed: true, pattern: '^(|[a-z0-9-]+)$', doc: "MINIO_SITE_REGION; empty: MinIO's default (us-east-1)" }),
    minio_root_user: v.str({ default: '', emptyAllowed: true, secret: true, doc: `root user (access key, secret, ${ROOT_USER_MIN}+ characters): only in ${SECRETS_FILE}; empty: generated once for the group (cluster value minio_root_user; root reads it in /var/lib/orch/values/)` }),
    minio_root_password: v.str({ default: '', emptyAllowed: true, secret: true, doc: `root password (secret key, secret, ${ROOT_PASSWORD_MIN}+ characters): only in ${SECRETS_FILE}; empty: generated once for the group (cluster value minio_root_password)` }),
    minio_buckets: v.list<string>({ type: 'string', pattern: BUCKET_PATTERN }, { default: SEED_BUCKETS, doc: 'buckets created once (datalyptica-minimal-5vm.md: datalyptica-warehouse, -staging, -backups, -ml); never deleted' }),
    minio_memory_max: v.str({ default: '512M', emptyAllowed: true, pattern: '^(|[0-9]+[KMGT]?|infinity)$', doc: "MemoryMax= of minio.service (vps-trio's container limit: 512 MB); empty: none; resource_limits.minio wins when the inventory gives it" }),
    minio_cpu_quota: v.str({ default: '20%', emptyAllowed: true, pattern: '^(|[0-9]+(\\.[0-9]+)?%)$', doc: "CPUQuota= of minio.service (vps-trio's container limit: 0.2 CPU); empty: none; resource_limits.minio wins when the inventory gives it" }),
    minio_extra_env: v.map<string | number | boolean>({ type: ['string', 'number', 'boolean'] }, { default: {}, doc: `more MinIO environment variables for ${CONFIG_FILE} (e.g. MINIO_PROMETHEUS_AUTH_TYPE: public)` }),
    minio_health_timeout: v.int({ default: 120, minimum: 10, doc: 'seconds a host may take to answer /minio/health/live (and /cluster) after a (re)start' }),
  },

  validate: ({ vars, host, group }) => {
    const out: string[] = [];
    const members = group(vars.minio_group);
    if (!members.some((p) => p.name === host.name)) out.push(`host ${host.name} runs minio but is not in group ${vars.minio_group}`);
    out.push(...layoutProblems(members, vars));
    if (vars.minio_root_user && vars.minio_root_user.length < ROOT_USER_MIN) out.push(`minio_root_user: MinIO needs at least ${ROOT_USER_MIN} characters`);
    if (vars.minio_root_password && vars.minio_root_password.length < ROOT_PASSWORD_MIN) out.push(`minio_root_password: MinIO needs at least ${ROOT_PASSWORD_MIN} characters`);
    if (/[\n\r]/.test(vars.minio_root_user + vars.minio_root_password)) out.push('minio_root_user / minio_root_password: a newline cannot go into an environment file');
    if (vars.minio_api_port === vars.minio_console_port) out.push(`minio_api_port and minio_console_port are both ${vars.minio_api_port}`);
    for (const k of Object.keys(vars.minio_extra_env)) {
      if (ROLE_ENV.includes(k)) out.push(`minio_extra_env.${k}: set by the role from its own variables`);
      else if (!/^[A-Z_][A-Z0-9_]*$/.test(k)) out.push(`minio_extra_env.${k}: not an environment variable name`);
    }
    if (!vars.minio_sha512 && !catalogued(vars.minio_version)) {
      out.push(`minio_version ${vars.minio_version}: not in the artifact catalogue (it has RELEASE.2025-09-07T16-13-09Z): set minio_sha512 to the sha512 of server/minio/release/linux-<arch>/archive/minio.${vars.minio_version} at artifact_mirror`);
    }
    return out;
  },

  declares: ({ vars, host }) => ({
    ports: [
      { port: vars.minio_api_port, variable: 'minio_api_port', description: 'MinIO S3 API' },
      ...(vars.minio_console_enabled ? [{ port: vars.minio_console_port, variable: 'minio_console_port', description: 'MinIO console' }] : []),
    ],
    ...resourceDeclaration(controls(vars, host.vars)),
    dataDirs: drives(vars),
    serves: [vars.minio_group],
  }),

  rollout: ({ vars, host, group }) => {
    const members = group(vars.minio_group);
    const topo = topology(members, vars);
    return {
      services: [SERVICE],
      health: {
        command: healthCommand(host.address, vars, topo),
        description: `MinIO on ${host.name} live${topo === 'single-drive' ? '' : ' and the cluster at write quorum'}`,
        timeoutSec: vars.minio_health_timeout,
        intervalSec: 2,
      },
      // distributed: every host at once (they must agree on the pool and the credentials), each then checked
      serial: Math.max(1, members.length),
    };
  },

  clusterValues: ({ vars }) => [
    { name: 'minio_root_user', doc: 'MinIO root user (access key)', group: vars.minio_group, secret: true, override: 'minio_root_user', overrideReplaces: true, generate: () => `orch-${randomBytes(6).toString('hex')}` },
    { name: 'minio_root_password', doc: 'MinIO root password (secret key)', group: vars.minio_group, secret: true, override: 'minio_root_password', overrideReplaces: true, generate: () => randomBytes(20).toString('hex') },
  ],

  operations: ({ vars: given, host, group, cluster }) => {
    // the root credentials: the inventory's, else the ones generated once for the group
    const vars = { ...given, minio_root_user: cluster('minio_root_user') || given.minio_root_user, minio_root_password: cluster('minio_root_password') || given.minio_root_password };
    const mv = vars as unknown as MinioVars;
    const members = group(vars.minio_group);
    const nodes: Node[] = members.map((m) => ({ name: m.name, address: m.address }));
    const arch = releaseArch(host.facts.arch || 'x86_64');
    const rel = minioReleaseOf(vars.minio_version, arch, vars.minio_sha512);
    if (!rel) throw new Error(`minio_version ${vars.minio_version} for ${arch} is not in the artifact catalogue: set minio_sha512`);
    const src = artifactSource(rel, { mirror: vars.artifact_mirror || undefined, sha512: vars.minio_sha512 || undefined });
    const root = vars.minio_install_root;
    const user = vars.minio_user;
    const notify = [SERVICE];
    const ds = drives(mv);
    const out: Operation<any>[] = [
      ops.packages({ names: ['curl'], osFamily: host.facts.osFamily }),
      ops.group({ name: user, system: true }),
      ops.user({ name: user, group: user, system: true, home: root, createHome: false, shell: '/usr/sbin/nologin' }),
      ops.artifact({ url: src.url, ...(src.sha512 ? { sha512: src.sha512 } : { sha256: src.sha256! }), dest: `${root}/releases/${rel.version}`, link: `${root}/current`, unpack: false, mode: 0o755 }),
      // the data dir: the drive itself, or the parent of disk1..N
      ops.dir({ path: vars.minio_data_dir, owner: user, group: user, mode: 0o750 }),
      ...ds.filter((d) => d !== vars.minio_data_dir.replace(/\/+$/, '')).map((d) => ops.dir({ path: d, owner: user, group: user, mode: 0o750 })),
      ops.dir({ path: ETC, owner: 'root', group: user, mode: 0o750 }),
      ops.file({ path: CONFIG_FILE, content: configEnv(nodes, mv), owner: 'root', group: user, mode: 0o640, notify }),
      ops.file({ path: SECRETS_FILE, content: secretsEnv(mv), owner: 'root', group: user, mode: 0o640, secret: true, notify }),
      ops.unit({ name: `${SERVICE}.service`, content: unit(mv, rel.version), notify, resources: controls(vars, host.vars) }),
      ops.service({ name: SERVICE, enabled: true, state: 'started' }),
      // live only here: in a distributed deployment whose hosts are about to restart with new settings (at the end of
      // the phase), a host that restarted first would split the cluster while another one waited here for its quorum.
      // The rollout checks the write quorum after the restarts; on a first start, Type=notify returns once it formed.
      ops.healthCheck({
        name: `MinIO on ${host.name}: /minio/health/live on ${vars.minio_api_port}`,
        command: liveCheck(host.address, vars.minio_api_port),
        timeoutS: vars.minio_health_timeout,
        intervalS: 2,
      }),
    ];
    // the buckets are the deployment's, made once through any host: the first of the group
    if (members[0]?.name === host.name && vars.minio_buckets.length) {
      out.push(
        bucketsOp({
          endpoint: `http://127.0.0.1:${vars.minio_api_port}`,
          region: vars.minio_region || 'us-east-1',
          accessKey: vars.minio_root_user,
          secretKey: vars.minio_root_password,
          buckets: vars.minio_buckets,
          service: SERVICE,
          timeoutS: vars.minio_health_timeout,
          restartOnRefusal: members.length <= 1,
        }),
      );
    }
    return out;
  },
});

/** the unit's resource controls: the inventory's resource_limits.minio, else minio_memory_max / minio_cpu_quota */
export function controls(vars: Pick<MinioVars, 'minio_memory_max' | 'minio_cpu_quota'>, hostVars: Record<string, unknown>): ResourceControls | undefined {
  const fromInventory = serviceLimits(hostVars, SERVICE);
  if (fromInventory) return fromInventory;
  const rc: ResourceControls = {};
  if (vars.minio_memory_max) rc.memoryMax = vars.minio_memory_max;
  if (vars.minio_cpu_quota) rc.cpuQuota = vars.minio_cpu_quota;
  return rc.memoryMax || rc.cpuQuota ? rc : undefined;
}

/** what the controls mean for `orch plan`'s capacity check (MiB, CPUs) */
function resourceDeclaration(rc: ResourceControls | undefined): { memoryMb?: number; cpus?: number } {
  const out: { memoryMb?: number; cpus?: number } = {};
  const m = rc?.memoryMax ? /^([0-9]+)([KMGT]?)$/.exec(rc.memoryMax) : null;
  if (m) out.memoryMb = Math.ceil((Number(m[1]) * ({ '': 1 / 1048576, K: 1 / 1024, M: 1, G: 1024, T: 1048576 } as Record<string, number>)[m[2]]));
  const c = rc?.cpuQuota ? /^([0-9.]+)%$/.exec(rc.cpuQuota) : null;
  if (c) out.cpus = Number(c[1]) / 100;
  return out;
}

function catalogued(version: string): boolean {
  try {
    release('minio', version, 'amd64');
    return true;
  } catch {
    return false;
  }
}

/** The release of a version and architecture: the catalogue's, or (one it lacks) dl.min.io's layout with the inventory's sha512. */
export function minioReleaseOf(version: string, arch: string, sha512: string): Release | undefined {
  try {
    return release('minio', version, arch);
  } catch {
    if (!sha512) return undefined;
    return minioRelease(version, arch, { sha512 }, 'the inventory (minio_sha512)');
  }
}
