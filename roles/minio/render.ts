/**
 * MinIO's files, typed: the server's environment file (volumes, addresses, options), the EnvironmentFile holding the
 * root credentials, the systemd unit, the health checks and the layout of drives on a host.
 */
import { environmentFileValue } from '../../src/ops/index.js';

export const ETC = '/etc/minio';
export const CONFIG_FILE = `${ETC}/minio.env`;
export const SECRETS_FILE = `${ETC}/secrets.env`;
export const SERVICE = 'minio';

/** the seeds' buckets (datalyptica-minimal-5vm.md, "Enterprise Object Storage") */
export const SEED_BUCKETS = ['datalyptica-warehouse', 'datalyptica-staging', 'datalyptica-backups', 'datalyptica-ml'];
/** an S3 bucket name as MinIO accepts it: 3-63 of a-z 0-9 . -, starting and ending with a letter or digit */
export const BUCKET_PATTERN = '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$';
export const RELEASE_PATTERN = '^RELEASE\\.[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}-[0-9]{2}-[0-9]{2}Z$';
/** MinIO's own limits on the root credentials (it refuses to start otherwise) */
export const ROOT_USER_MIN = 3;
export const ROOT_PASSWORD_MIN = 8;

export interface MinioVars {
  minio_version: string;
  minio_install_root: string;
  minio_user: string;
  minio_group: string;
  minio_api_port: number;
  minio_console_port: number;
  minio_console_enabled: boolean;
  minio_data_dir: string;
  minio_drives_per_host: number;
  minio_allow_root_drive: boolean;
  minio_region: string;
  minio_root_user: string;
  minio_root_password: string;
  minio_buckets: string[];
  minio_memory_max: string;
  minio_cpu_quota: string;
  minio_extra_env: Record<string, string | number | boolean>;
  minio_health_timeout: number;
}

/** Go's (and MinIO's download paths') architecture name for the kernel's (uname -m) */
export function releaseArch(arch: string): string {
  return ({ x86_64: 'amd64', amd64: 'amd64', aarch64: 'arm64', arm64: 'arm64', ppc64le: 'ppc64le', s390x: 's390x' } as Record<string, string>)[arch] ?? arch;
}

/** a host of the MinIO group as the volumes name it */
export interface Node {
  name: string;
  address: string;
}

/** the binary of a release under the install root (the unit names it, so an upgrade changes the unit) */
export const binaryPath = (v: Pick<MinioVars, 'minio_install_root'>, version: string) => `${v.minio_install_root}/releases/${version}/minio.${version}`;

/** the drives (directories) of one host: the data dir itself for one drive, else <data dir>/disk1..N */
export function drives(v: Pick<MinioVars, 'minio_data_dir' | 'minio_drives_per_host'>): string[] {
  const root = v.minio_data_dir.replace(/\/+$/, '') || '/';
  if (v.minio_drives_per_host <= 1) return [root];
  return Array.from({ length: v.minio_drives_per_host }, (_, i) => `${root === '/' ? '' : root}/disk${i + 1}`);
}

export type Topology = 'single-drive' | 'single-node-multi-drive' | 'distributed';

export function topology(nodes: Node[], v: Pick<MinioVars, 'minio_drives_per_host'>): Topology {
  if (nodes.length > 1) return 'distributed';
  return v.minio_drives_per_host > 1 ? 'single-node-multi-drive' : 'single-drive';
}

/** an erasure set size (2-16) that divides the drive count, as MinIO needs (the largest, as MinIO picks it) */
export function erasureSetSize(totalDrives: number): number | undefined {
  for (let s = 16; s >= 2; s--) if (totalDrives % s === 0) return s;
  return undefined;
}

/**
 * Problems with the layout (empty: fine). One drive is MinIO's single-drive mode (no erasure coding). More drives,
 * on one host or several, are erasure coded: at least 4 in total (fewer leave no drive to lose while keeping write
 * quorum), and a count some erasure set size 2-16 divides.
 */
export function layoutProblems(nodes: Node[], v: Pick<MinioVars, 'minio_drives_per_host'>): string[] {
  const total = Math.max(1, nodes.length) * v.minio_drives_per_host;
  if (total === 1) return [];
  const out: string[] = [];
  const what = `${nodes.length > 1 ? `${nodes.length} hosts x ` : ''}${v.minio_drives_per_host} drive(s) = ${total} drives`;
  if (total < 4) out.push(`minio: ${what}: erasure coding needs at least 4 drives in total (set minio_drives_per_host, e.g. ${Math.ceil(4 / Math.max(1, nodes.length))} per host, or run a single host with one drive)`);
  else if (!erasureSetSize(total)) out.push(`minio: ${what}: no erasure set size from 2 to 16 divides ${total}; choose another minio_drives_per_host`);
  return out;
}

/**
 * MINIO_VOLUMES: one drive alone as its path; several on one host as their paths; distributed, every drive of every
 * host as http://<address>:<api port><drive>, hosts in inventory order (each node finds itself by its address).
 */
export function volumes(nodes: Node[], v: Pick<MinioVars, 'minio_data_dir' | 'minio_drives_per_host' | 'minio_api_port'>): string {
  const ds = drives(v);
  if (nodes.length <= 1) return ds.join(' ');
  return nodes.flatMap((n) => ds.map((d) => `http://${hostPart(n.address)}:${v.minio_api_port}${d}`)).join(' ');
}

/** an IPv6 address in brackets for a URL */
const hostPart = (address: string) => (address.includes(':') && !address.startsWith('[') ? `[${address}]` : address);

function envLine(name: string, value: string | number | boolean): string {
  const s = String(value);
  if (/[\n\r]/.test(s)) throw new Error(`minio: ${name} holds a newline`);
  return `${name}=${environmentFileValue(s, `minio: ${name} holds a newline`)}`;
}

/** the variables the role sets itself (minio_extra_env may not) */
export const ROLE_ENV = ['MINIO_VOLUMES', 'MINIO_OPTS', 'MINIO_BROWSER', 'MINIO_SITE_REGION', 'MINIO_ROOTDRIVE_THRESHOLD_SIZE', 'MINIO_ROOT_USER', 'MINIO_ROOT_PASSWORD'];

/**
 * /etc/minio/minio.env: what the unit's `minio server $MINIO_OPTS $MINIO_VOLUMES` reads, as MinIO's own
 * /etc/default/minio does: the volumes, the API and console addresses, the console on or off, the region, then
 * minio_extra_env. With minio_allow_root_drive (simulated hosts, test VMs whose drives are directories on /), a drive
 * on the root filesystem is used in erasure mode (MINIO_ROOTDRIVE_THRESHOLD_SIZE=1: only drives of at most one byte
 * count as the root drive); MinIO otherwise refuses such drives ("drive is part of root drive").
 */
export function configEnv(nodes: Node[], v: MinioVars): string {
  const lines = [
    envLine('MINIO_VOLUMES', volumes(nodes, v)),
    envLine('MINIO_OPTS', `--address :${v.minio_api_port} --console-address :${v.minio_console_port}`),
    envLine('MINIO_BROWSER', v.minio_console_enabled ? 'on' : 'off'),
  ];
  if (v.minio_region) lines.push(envLine('MINIO_SITE_REGION', v.minio_region));
  if (v.minio_allow_root_drive) lines.push(envLine('MINIO_ROOTDRIVE_THRESHOLD_SIZE', '1'));
  for (const [k, x] of Object.entries(v.minio_extra_env)) {
    if (ROLE_ENV.includes(k)) throw new Error(`minio_extra_env.${k}: set by the role from its own variables`);
    if (!/^[A-Z_][A-Z0-9_]*$/.test(k)) throw new Error(`minio_extra_env.${k}: not an environment variable name`);
    lines.push(envLine(k, x));
  }
  return `# Managed by orch (role minio): the server's settings (minio server $MINIO_OPTS $MINIO_VOLUMES)\n${lines.join('\n')}\n`;
}

/** /etc/minio/secrets.env (0640 root:minio): the root user and password, as systemd's EnvironmentFile reads them */
export function secretsEnv(v: Pick<MinioVars, 'minio_root_user' | 'minio_root_password'>): string {
  return `# Managed by orch (role minio): the root credentials\n${envLine('MINIO_ROOT_USER', v.minio_root_user)}\n${envLine('MINIO_ROOT_PASSWORD', v.minio_root_password)}\n`;
}

/**
 * minio.service, after MinIO's own (minio-service/linux-systemd): Type=notify (MinIO tells systemd once it serves,
 * in distributed mode once the drives of the other hosts answer), the binary of the release, both environment files,
 * restart always, no SIGKILL while it shuts down cleanly. MemoryMax=/CPUQuota= are added by ops.unit's resources.
 */
export function unit(v: Pick<MinioVars, 'minio_user' | 'minio_install_root' | 'minio_health_timeout'>, version: string): string {
  const bin = binaryPath(v, version);
  return `# Managed by orch (role minio)
[Unit]
Description=MinIO ${version}
Documentation=https://min.io/docs/minio/linux/index.html
Wants=network-online.target
After=network-online.target
AssertFileIsExecutable=${bin}

[Service]
Type=notify
User=${v.minio_user}
Group=${v.minio_user}
WorkingDirectory=${v.minio_install_root}
EnvironmentFile=${CONFIG_FILE}
EnvironmentFile=${SECRETS_FILE}
ExecStart=${bin} server $MINIO_OPTS $MINIO_VOLUMES
Restart=always
RestartSec=5
LimitNOFILE=65536
TasksMax=infinity
TimeoutStartSec=${Math.max(60, v.minio_health_timeout)}
TimeoutStopSec=60
SendSIGKILL=no

[Install]
WantedBy=multi-user.target
`;
}

const url = (address: string, port: number, path: string) => `http://${hostPart(address)}:${port}${path}`;

/** /minio/health/live: the server process answers (200), whatever its drives */
export function liveCheck(address: string, port: number): string {
  return `curl -fsS -o /dev/null --max-time 5 ${url(address, port, '/minio/health/live')}`;
}

/** /minio/health/cluster: the cluster has write quorum (200), else 503 */
export function clusterCheck(address: string, port: number): string {
  return `curl -fsS -o /dev/null --max-time 5 ${url(address, port, '/minio/health/cluster')}`;
}

/** the health command of a host: live, and with several drives (erasure coded) the cluster's write quorum */
export function healthCommand(address: string, v: Pick<MinioVars, 'minio_api_port'>, topo: Topology): string {
  return topo === 'single-drive' ? liveCheck(address, v.minio_api_port) : `${liveCheck(address, v.minio_api_port)} && ${clusterCheck(address, v.minio_api_port)}`;
}
