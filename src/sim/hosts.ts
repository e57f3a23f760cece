/**
 * Simulated hosts: one Docker container per inventory host, running systemd + sshd, on a private bridge network
 * `orch-sim-<name>`. orch reaches them over real SSH with a per-simulation key, verifying real host keys.
 *
 * Docker objects carry labels (`orch.sim=<name>`, `orch.host=<host>`, `orch.groups=<a,b>`): Docker is the source of
 * truth, the state dir `<projectRoot>/.orch/sim/<name>/` holds the key, the known_hosts file, `overlay.yml`
 * (connection variables to merge over the inventory) and `state.json`.
 *
 * Resource rule (per host, only when the inventory asks, via `memoryMb` / `cpus`):
 *   memory = max(256, min(requested, floor(0.8 * total RAM / number of hosts in the simulation))) MiB, no swap
 *   cpus   = min(requested, number of CPUs of this machine)
 * so a 5-host inventory written for 16 GiB VMs still fits a laptop; hosts without hints get no limit.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile, rename } from 'node:fs/promises';
import { connect } from 'node:net';
import { cpus as osCpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import { stringify } from 'yaml';
import { ensureAptProxy } from './apt-proxy.js';
import { assertDockerUp, docker, dockerExec, noLog, pool, run, sleep, type Log } from './docker.js';
import { ensureImage, type SimVariant } from './image.js';
import { ensureKeyPair } from './keys.js';

export type { SimVariant } from './image.js';
export type { Log } from './docker.js';

export interface SimHostSpec {
  name: string;
  groups: string[];
  /** memory the inventory asks for (scaled down to fit this machine, see the rule above) */
  memoryMb?: number;
  cpus?: number;
}

export interface SimHostState {
  name: string;
  groups: string[];
  /** container name, `orch-sim-<sim>-<host>` */
  container: string;
  containerId: string;
  address: string;
  port: number;
  /** limits applied (after scaling), if any */
  memoryMb?: number;
  cpus?: number;
}

export interface SimState {
  name: string;
  image: string;
  network: { name: string; id: string; subnet: string; gateway: string };
  stateDir: string;
  overlayFile: string;
  keyFile: string;
  knownHostsFile: string;
  /** `http://<gateway>:3142` when the apt cache works, else absent */
  aptProxy?: string;
  hosts: SimHostState[];
  /** the `addressVars` and the address each got */
  addresses?: Record<string, string>;
  /** the `vars` written into the overlay */
  vars?: Record<string, unknown>;
  /** the `groupVars` written into the overlay for their groups' hosts */
  groupVars?: Record<string, Record<string, unknown>>;
  createdAt: string;
}

export interface SimCommonOptions {
  /** where `.orch/sim/<name>/` lives; default: the current directory */
  projectRoot?: string;
  log?: Log;
}

export interface SimUpOptions extends SimCommonOptions {
  /** simulation name, e.g. the inventory name */
  name: string;
  hosts: SimHostSpec[];
  variant?: SimVariant;
  /** containers started at once (default 4) */
  concurrency?: number;
  /** per-host limit for systemd + sshd to come up (default 120 s) */
  readyTimeoutMs?: number;
  /** variables written into the overlay for every host (an inventory's `sim.yml` vars: sources this machine reaches) */
  vars?: Record<string, unknown>;
  /**
   * variables that each get one free address of the simulation's network, the same on every host, kept across
   * `sim up` runs and never handed to a host (a VRRP VIP: keepalived_vip)
   */
  addressVars?: string[];
  /** variables set to the address of one of the simulated hosts (variable -> host), e.g. a bastion's */
  hostAddressVars?: Record<string, string>;
  /** variables for the hosts of a group (group -> vars), over `vars` */
  groupVars?: Record<string, Record<string, unknown>>;
}

const LABEL_SIM = 'orch.sim';
const LABEL_HOST = 'orch.host';
const LABEL_GROUPS = 'orch.groups';
const LABEL_SPEC = 'orch.spec';
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/**
 * PID 1 of a simulated host: systemd, after making /proc/sys read-only except /proc/sys/net. With
 * `systempaths=unconfined` /proc/sys is writable, and the kernel is shared: without this, a container's
 * systemd-sysctl or a package's postinst writing vm.* or fs.* would retune the machine running the tests.
 * Namespaced keys (net.*) stay writable, as on a VM.
 */
const PID1 =
  'mount --bind /proc/sys /proc/sys && mount --bind /proc/sys/net /proc/sys/net && mount -o remount,bind,ro /proc/sys && exec /lib/systemd/systemd';

export const networkName = (sim: string) => `orch-sim-${sim}`;
export const containerName = (sim: string, host: string) => `orch-sim-${sim}-${host}`;
export const simStateDir = (projectRoot: string, sim: string) => resolve(projectRoot, '.orch', 'sim', sim);
export const simOverlayFile = (projectRoot: string, sim: string) => join(simStateDir(projectRoot, sim), 'overlay.yml');

/** The state written by the last `simUp` of this simulation, if any. */
export async function loadSimState(name: string, opts: { projectRoot?: string } = {}): Promise<SimState | undefined> {
  const file = join(simStateDir(opts.projectRoot ?? process.cwd(), name), 'state.json');
  if (!existsSync(file)) return undefined;
  return JSON.parse(await readFile(file, 'utf8')) as SimState;
}

// ---------------------------------------------------------------------------------------------------------------
// small helpers

function ipToInt(ip: string): number {
  return ip.split('.').reduce((a, p) => a * 256 + Number(p), 0);
}
function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}
function inSubnet(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(ipToInt(base) / size) * size;
  const n = ipToInt(ip);
  return n >= start && n < start + size;
}

/** A tar archive (ustar) of the given entries, for putArchive. */
function tarball(entries: Array<{ path: string; mode: number; dir?: boolean; data?: string }>): Buffer {
  const blocks: Buffer[] = [];
  const now = Math.floor(Date.now() / 1000);
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    const h = Buffer.alloc(512);
    const field = (off: number, len: number, v: string) => h.write(v, off, len, 'ascii');
    const octal = (off: number, len: number, v: number) => field(off, len, v.toString(8).padStart(len - 1, '0') + '\0');
    field(0, 100, e.path);
    octal(100, 8, e.mode);
    octal(108, 8, 0);
    octal(116, 8, 0);
    octal(124, 12, e.dir ? 0 : data.length);
    octal(136, 12, now);
    field(148, 8, '        ');
    field(156, 1, e.dir ? '5' : '0');
    field(257, 6, 'ustar\0');
    field(263, 2, '00');
    field(265, 32, 'root');
    field(297, 32, 'root');
    let sum = 0;
    for (const b of h) sum += b;
    field(148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
    blocks.push(h);
    if (!e.dir && data.length) {
      blocks.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** Resolves when something at host:port sends an SSH banner. */
function sshBanner(host: string, port: number, timeoutMs = 3000): Promise<boolean> {
  return new Promise((resolveP) => {
    const s = connect({ host, port });
    let buf = '';
    const done = (ok: boolean) => {
      s.destroy();
      resolveP(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.on('data', (d) => {
      buf += d.toString('latin1');
      if (buf.includes('SSH-')) done(true);
    });
    s.on('error', () => done(false));
    s.on('close', () => done(false));
  });
}

async function readSysctlAsync(name: string): Promise<number | undefined> {
  try {
    return Number((await readFile(`/proc/sys/${name.replace(/\./g, '/')}`, 'utf8')).trim());
  } catch {
    return undefined;
  }
}

async function raiseSysctl(name: string, value: number, log: Log): Promise<boolean> {
  try {
    await writeFile(`/proc/sys/${name.replace(/\./g, '/')}`, String(value));
  } catch {
    try {
      await run('sudo', ['-n', 'sysctl', '-w', `${name}=${value}`], { timeoutMs: 10_000 });
    } catch {
      return false;
    }
  }
  log(`raised ${name} to ${value}`);
  return true;
}

/** Each systemd container takes ~5 inotify instances out of a per-user budget shared with the whole machine. */
async function checkInotify(totalContainers: number, log: Log): Promise<void> {
  const instances = await readSysctlAsync('fs.inotify.max_user_instances');
  const needed = totalContainers * 8 + 128;
  if (instances !== undefined && instances < needed) {
    const target = Math.max(2048, needed);
    if (!(await raiseSysctl('fs.inotify.max_user_instances', target, log))) {
      throw new Error(
        `fs.inotify.max_user_instances is ${instances}, too low for ${totalContainers} systemd containers ` +
          `(each uses ~5; systemd exits at boot when it runs out). Fix: \`sudo sysctl -w fs.inotify.max_user_instances=${target}\` ` +
          `(or \`bash scripts/setup-host.sh\`).`,
      );
    }
  }
  const watches = await readSysctlAsync('fs.inotify.max_user_watches');
  if (watches !== undefined && watches < 65536) {
    if (!(await raiseSysctl('fs.inotify.max_user_watches', 524288, log))) {
      log(`warning: fs.inotify.max_user_watches is ${watches}; \`sudo sysctl -w fs.inotify.max_user_watches=524288\` is advised`);
    }
  }
}

/** Scale the inventory's resource hints to this machine (rule in the header comment). */
export function planResources(spec: SimHostSpec, hostCount: number): { memoryMb?: number; cpus?: number } {
  const totalMb = Math.floor(totalmem() / 2 ** 20);
  const capMb = Math.floor((0.8 * totalMb) / Math.max(1, hostCount));
  const out: { memoryMb?: number; cpus?: number } = {};
  if (spec.memoryMb && spec.memoryMb > 0) out.memoryMb = Math.max(256, Math.min(spec.memoryMb, capMb));
  if (spec.cpus && spec.cpus > 0) out.cpus = Math.min(spec.cpus, osCpus().length || 1);
  return out;
}

async function listSimContainers(sim?: string): Promise<Docker.ContainerInfo[]> {
  return docker().listContainers({
    all: true,
    filters: JSON.stringify({ label: [sim ? `${LABEL_SIM}=${sim}` : LABEL_SIM] }),
  });
}

async function listSimNetworks(sim?: string): Promise<Docker.NetworkInspectInfo[]> {
  return docker().listNetworks({ filters: JSON.stringify({ label: [sim ? `${LABEL_SIM}=${sim}` : LABEL_SIM] }) });
}

// ---------------------------------------------------------------------------------------------------------------
// network

interface NetInfo {
  name: string;
  id: string;
  subnet: string;
  gateway: string;
}

async function inspectNetwork(name: string): Promise<NetInfo | undefined> {
  try {
    const n = await docker().getNetwork(name).inspect();
    const cfg = (n.IPAM?.Config ?? []).find((c: { Subnet?: string }) => c.Subnet && !c.Subnet.includes(':'));
    if (!cfg?.Subnet) return undefined;
    const gateway = cfg.Gateway ?? intToIp(ipToInt(cfg.Subnet.split('/')[0]) + 1);
    return { name, id: n.Id, subnet: cfg.Subnet, gateway };
  } catch {
    return undefined;
  }
}

/** Never use 10.0.0.0/8 (it may be this machine's real LAN): pick a free 192.168.x.0/24 instead. */
async function fallbackSubnet(): Promise<string> {
  const used = new Set<string>();
  for (const n of await docker().listNetworks()) {
    for (const c of n.IPAM?.Config ?? []) if (c.Subnet) used.add(c.Subnet);
  }
  const { networkInterfaces } = await import('node:os');
  const local = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a && a.family === 'IPv4')
    .map((a) => a!.address);
  for (let x = 200; x < 255; x++) {
    const cidr = `192.168.${x}.0/24`;
    if ([...used].some((u) => u.startsWith(`192.168.${x}.`) || inSubnet(`192.168.${x}.1`, u))) continue;
    if (local.some((ip) => inSubnet(ip, cidr))) continue;
    return cidr;
  }
  throw new Error('no free private subnet for the simulation network');
}

async function ensureNetwork(sim: string, log: Log): Promise<NetInfo> {
  const name = networkName(sim);
  const existing = await inspectNetwork(name);
  if (existing && !existing.subnet.startsWith('10.')) return existing;
  if (existing) await docker().getNetwork(name).remove();
  const create = (subnet?: string) =>
    docker().createNetwork({
      Name: name,
      Driver: 'bridge',
      CheckDuplicate: true,
      Labels: { [LABEL_SIM]: sim },
      ...(subnet ? { IPAM: { Driver: 'default', Config: [{ Subnet: subnet }] } } : {}),
    });
  // static container addresses need a "user configured" subnet: let Docker pick a free one (it avoids the
  // machine's routes), then re-create the network with that subnet spelled out
  await create();
  const probe = await inspectNetwork(name);
  await docker().getNetwork(name).remove();
  const subnet = probe && !probe.subnet.startsWith('10.') ? probe.subnet : await fallbackSubnet();
  await create(subnet);
  const info = await inspectNetwork(name);
  if (!info) throw new Error(`docker network ${name} has no IPv4 subnet`);
  log(`network ${name}: ${info.subnet} (gateway ${info.gateway})`);
  return info;
}

// ---------------------------------------------------------------------------------------------------------------
// containers

function specHash(image: string, spec: SimHostSpec, res: { memoryMb?: number; cpus?: number }, net: NetInfo): string {
  return createHash('sha256')
    .update(JSON.stringify({ image, groups: spec.groups, res, net: net.id, pid1: PID1, v: 1 }))
    .digest('hex')
    .slice(0, 12);
}

function createOptions(
  sim: string,
  spec: SimHostSpec,
  image: string,
  net: NetInfo,
  ip: string,
  res: { memoryMb?: number; cpus?: number },
  hash: string,
): Docker.ContainerCreateOptions {
  const cgroupnsPrivate = process.env.ORCH_SIM_CGROUPNS === 'private';
  const hostConfig: Docker.HostConfig & { CgroupnsMode?: string } = {
    CapAdd: ['SYS_ADMIN', 'NET_ADMIN'],
    // `--security-opt systempaths=unconfined` in the docker CLI = empty MaskedPaths / ReadonlyPaths in the API
    SecurityOpt: ['seccomp=unconfined'],
    MaskedPaths: [],
    ReadonlyPaths: [],
    CgroupnsMode: cgroupnsPrivate ? 'private' : 'host',
    Binds: cgroupnsPrivate ? [] : ['/sys/fs/cgroup:/sys/fs/cgroup:rw'],
    Tmpfs: { '/run': '', '/run/lock': '' },
    NetworkMode: net.name,
    RestartPolicy: { Name: 'no' },
  };
  if (res.memoryMb) {
    hostConfig.Memory = res.memoryMb * 2 ** 20;
    hostConfig.MemorySwap = res.memoryMb * 2 ** 20;
  }
  if (res.cpus) hostConfig.NanoCpus = Math.round(res.cpus * 1e9);
  return {
    name: containerName(sim, spec.name),
    Image: image,
    Hostname: spec.name,
    Cmd: ['/bin/sh', '-c', PID1],
    Env: ['container=docker'],
    StopSignal: 'SIGRTMIN+3',
    Tty: false,
    Labels: {
      [LABEL_SIM]: sim,
      [LABEL_HOST]: spec.name,
      [LABEL_GROUPS]: spec.groups.join(','),
      [LABEL_SPEC]: hash,
    },
    HostConfig: hostConfig,
    NetworkingConfig: {
      EndpointsConfig: { [net.name]: { IPAMConfig: { IPv4Address: ip }, Aliases: [spec.name] } },
    },
  };
}

async function injectAuthorizedKey(container: Docker.Container, publicKey: string): Promise<void> {
  const tar = tarball([
    { path: 'root/.ssh/', mode: 0o700, dir: true },
    { path: 'root/.ssh/authorized_keys', mode: 0o600, data: `${publicKey.trim()}\n` },
  ]);
  await container.putArchive(tar, { path: '/' });
}

async function containerLogsTail(container: Docker.Container, lines = 30): Promise<string> {
  try {
    const buf = (await container.logs({ stdout: true, stderr: true, tail: lines, follow: false })) as unknown as Buffer;
    // strip the 8-byte multiplexing headers
    const out: string[] = [];
    let i = 0;
    while (i + 8 <= buf.length) {
      const len = buf.readUInt32BE(i + 4);
      out.push(buf.subarray(i + 8, i + 8 + len).toString('utf8'));
      i += 8 + len;
    }
    return (out.length ? out.join('') : buf.toString('utf8')).trim();
  } catch {
    return '';
  }
}

/** Wait until systemd finished booting and sshd answers at ip:22; returns the host's ed25519 public key. */
async function waitReady(containerId: string, host: string, ip: string, timeoutMs: number, log: Log): Promise<string> {
  const container = docker().getContainer(containerId);
  const deadline = Date.now() + timeoutMs;
  const exited = async () => {
    const info = await container.inspect();
    if (info.State.Running) return undefined;
    const logs = await containerLogsTail(container);
    return new Error(
      `simulated host ${host}: container exited (code ${info.State.ExitCode}${info.State.OOMKilled ? ', out of memory' : ''}${
        info.State.Error ? `, ${info.State.Error}` : ''
      }) while booting.\n` +
        `If its log mentions inotify or "Failed to allocate manager object", raise the limit: ` +
        `\`sudo sysctl -w fs.inotify.max_user_instances=2048\` (scripts/setup-host.sh does it).\n--- container log ---\n${logs}`,
    );
  };
  // 1. systemd boots
  let state = '';
  for (;;) {
    const err = await exited();
    if (err) throw err;
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`simulated host ${host}: systemd did not finish booting in ${timeoutMs / 1000} s (${state})`);
    try {
      const r = await dockerExec(containerId, ['systemctl', 'is-system-running', '--wait'], { timeoutMs: left });
      state = r.stdout.trim() || r.stderr.trim();
      if (state === 'running') break;
      if (state === 'degraded') {
        const failed = await dockerExec(containerId, ['systemctl', '--failed', '--no-legend', '--plain']);
        log(`[${host}] warning: system degraded, failed units: ${failed.stdout.trim().replace(/\s+/g, ' ')}`);
        break;
      }
    } catch (e) {
      state = (e as Error).message;
    }
    await sleep(250); // "Failed to connect to bus" while systemd is starting
  }
  // 2. sshd answers on the container's address
  while (!(await sshBanner(ip, 22))) {
    const err = await exited();
    if (err) throw err;
    if (Date.now() > deadline) throw new Error(`simulated host ${host}: sshd does not answer on ${ip}:22`);
    await sleep(250);
  }
  // 3. its host key
  const key = await dockerExec(containerId, ['cat', '/etc/ssh/ssh_host_ed25519_key.pub']);
  const m = /^(ssh-ed25519 [A-Za-z0-9+/=]+)/.exec(key.stdout.trim());
  if (key.code !== 0 || !m) throw new Error(`simulated host ${host}: cannot read its SSH host key: ${key.stderr}`);
  return m[1];
}

async function writeFileAtomic(file: string, data: string, mode = 0o644): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, data, { mode });
  await rename(tmp, file);
}

async function writeState(state: SimState, hostKeys: Map<string, string>): Promise<void> {
  await mkdir(state.stateDir, { recursive: true });
  const known = state.hosts.map((h) => `${h.address} ${hostKeys.get(h.name)}`).join('\n') + '\n';
  await writeFileAtomic(state.knownHostsFile, known);
  const hosts: Record<string, Record<string, unknown>> = {};
  for (const h of state.hosts) {
    hosts[h.name] = {
      ...(state.vars ?? {}),
      ...Object.assign({}, ...Object.entries(state.groupVars ?? {}).filter(([g]) => h.groups.includes(g)).map(([, v]) => v)),
      ...(state.addresses ?? {}),
      ansible_host: h.address,
      ansible_port: h.port,
      ansible_user: 'root',
      ansible_ssh_private_key_file: state.keyFile,
      orch_known_hosts: state.knownHostsFile,
      ...(state.aptProxy ? { apt_proxy: state.aptProxy } : {}),
    };
  }
  const header = `# Written by \`orch sim up\` for simulation "${state.name}" at ${state.createdAt}: connection variables\n# of the simulated hosts, merged over the inventory with --sim. Regenerated on every \`sim up\`.\n`;
  await writeFileAtomic(state.overlayFile, header + stringify({ hosts }));
  await writeFileAtomic(join(state.stateDir, 'state.json'), JSON.stringify(state, null, 2) + '\n');
}

// ---------------------------------------------------------------------------------------------------------------
// public API

/**
 * Bring up (or update) simulation `name`: network, key, one container per host, all booted with sshd answering.
 * Idempotent: running containers with an unchanged spec are kept (same IP, same host key), stopped ones are started,
 * changed ones re-created, containers of hosts no longer listed removed.
 */
export async function simUp(opts: SimUpOptions): Promise<SimState> {
  const log = opts.log ?? noLog;
  const projectRoot = resolve(opts.projectRoot ?? process.cwd());
  const sim = opts.name;
  if (!NAME_RE.test(sim)) throw new Error(`invalid simulation name "${sim}" (letters, digits, '_', '.', '-')`);
  if (opts.hosts.length === 0) throw new Error(`simulation ${sim}: no hosts`);
  const seen = new Set<string>();
  for (const h of opts.hosts) {
    if (!NAME_RE.test(h.name) || h.name.length > 63) {
      throw new Error(`host name "${h.name}" cannot be a container hostname (letters, digits, '_', '.', '-'; max 63)`);
    }
    if (seen.has(h.name)) throw new Error(`host ${h.name} listed twice`);
    seen.add(h.name);
  }
  const t0 = Date.now();
  await assertDockerUp();
  const image = await ensureImage({ variant: opts.variant ?? 'base', log });

  const existing = await listSimContainers(sim);
  const otherSims = (await listSimContainers()).filter((c) => c.Labels[LABEL_SIM] !== sim && c.State === 'running');
  await checkInotify(otherSims.length + opts.hosts.length, log);

  const net = await ensureNetwork(sim, log);
  const stateDir = simStateDir(projectRoot, sim);
  await mkdir(stateDir, { recursive: true });
  const keyFile = join(stateDir, 'id_ed25519');
  const publicKey = await ensureKeyPair(keyFile, `orch-sim-${sim}`);
  const aptProxy = await ensureAptProxy({ gateway: net.gateway, log });

  // remove containers of hosts no longer in the list
  const wanted = new Set(opts.hosts.map((h) => h.name));
  for (const c of existing) {
    if (!wanted.has(c.Labels[LABEL_HOST])) {
      log(`[${c.Labels[LABEL_HOST]}] not in the inventory any more: removing`);
      await docker().getContainer(c.Id).remove({ force: true, v: true });
    }
  }

  // addresses: keep the ones in use, hand out the lowest free ones from .10 on
  const used = new Set<string>([net.gateway]);
  const existingIp = new Map<string, string>();
  for (const c of existing) {
    const ip = c.NetworkSettings?.Networks?.[net.name]?.IPAddress || c.NetworkSettings?.Networks?.[net.name]?.IPAMConfig?.IPv4Address;
    if (ip && inSubnet(ip, net.subnet) && wanted.has(c.Labels[LABEL_HOST])) {
      existingIp.set(c.Labels[LABEL_HOST], ip);
      used.add(ip);
    }
  }
  const [subnetBase, bits] = net.subnet.split('/');
  const first = ipToInt(subnetBase);
  const last = first + 2 ** (32 - Number(bits)) - 2;
  let cursor = first + 10;
  const nextIp = () => {
    while (cursor <= last && used.has(intToIp(cursor))) cursor++;
    if (cursor > last) throw new Error(`network ${net.name} (${net.subnet}) has no free address left`);
    const ip = intToIp(cursor++);
    used.add(ip);
    return ip;
  };
  // addresses for variables (VIPs): from the top of the subnet down, the ones of the last `sim up` kept
  const previous = (await loadSimState(sim, { projectRoot }).catch(() => undefined))?.addresses ?? {};
  const addresses: Record<string, string> = {};
  let top = last;
  for (const v of opts.addressVars ?? []) {
    const kept = previous[v];
    if (kept && inSubnet(kept, net.subnet) && !used.has(kept) && !Object.values(addresses).includes(kept)) addresses[v] = kept;
  }
  for (const v of opts.addressVars ?? []) {
    if (addresses[v]) continue;
    while (top > first + 10 && (used.has(intToIp(top)) || Object.values(addresses).includes(intToIp(top)))) top--;
    if (top <= first + 10) throw new Error(`network ${net.name} (${net.subnet}) has no free address left for ${v}`);
    addresses[v] = intToIp(top--);
  }
  for (const ip of Object.values(addresses)) used.add(ip);
  for (const [v, h] of Object.entries(opts.hostAddressVars ?? {})) {
    if (!wanted.has(h)) throw new Error(`sim.yml: host_addresses.${v} names ${h}, which is not a host of this simulation (${[...wanted].join(', ')})`);
  }
  const plan = opts.hosts.map((spec) => {
    const res = planResources(spec, opts.hosts.length);
    const hash = specHash(image, spec, res, net);
    const current = existing.find((c) => c.Labels[LABEL_HOST] === spec.name);
    const ip = existingIp.get(spec.name) ?? nextIp();
    return { spec, res, hash, current, ip };
  });

  const hostKeys = new Map<string, string>();
  const readyTimeoutMs = opts.readyTimeoutMs ?? 120_000;
  const hosts = await pool(plan, opts.concurrency ?? 4, async ({ spec, res, hash, current, ip }): Promise<SimHostState> => {
    const th = Date.now();
    let id = current?.Id;
    if (current && (current.Labels[LABEL_SPEC] !== hash || !existingIp.has(spec.name))) {
      log(`[${spec.name}] spec changed: re-creating`);
      await docker().getContainer(current.Id).remove({ force: true, v: true });
      id = undefined;
    }
    if (!id) {
      const c = await docker().createContainer(createOptions(sim, spec, image, net, ip, res, hash));
      id = c.id;
    }
    const container = docker().getContainer(id);
    await injectAuthorizedKey(container, publicKey);
    const info = await container.inspect();
    if (!info.State.Running) {
      await container.start();
      log(`[${spec.name}] started ${containerName(sim, spec.name)} at ${ip}${res.memoryMb ? `, ${res.memoryMb} MiB` : ''}${res.cpus ? `, ${res.cpus} CPUs` : ''}`);
    }
    const hostKey = await waitReady(id, spec.name, ip, readyTimeoutMs, log);
    hostKeys.set(spec.name, hostKey);
    log(`[${spec.name}] ready (${((Date.now() - th) / 1000).toFixed(1)} s)`);
    return { name: spec.name, groups: spec.groups, container: containerName(sim, spec.name), containerId: id, address: ip, port: 22, ...res };
  });

  // check once, from inside, that the apt cache is reachable through the gateway
  let proxy = aptProxy;
  if (proxy && hosts.length) {
    const probe = await dockerExec(hosts[0].containerId, ['curl', '-s', '-o', '/dev/null', '-m', '5', '-w', '%{http_code}', `${proxy}/acng-report.html`]).catch(() => undefined);
    if (!probe || !/^[23]\d\d$/.test(probe.stdout.trim())) {
      log(`apt cache ${proxy} is not reachable from the containers (${probe?.stdout.trim() || 'no answer'}): not using it`);
      proxy = undefined;
    }
  }

  for (const [v, h] of Object.entries(opts.hostAddressVars ?? {})) addresses[v] = hosts.find((x) => x.name === h)!.address;
  const state: SimState = {
    name: sim,
    image,
    network: net,
    stateDir,
    overlayFile: join(stateDir, 'overlay.yml'),
    keyFile,
    knownHostsFile: join(stateDir, 'known_hosts'),
    ...(proxy ? { aptProxy: proxy } : {}),
    hosts,
    ...(Object.keys(addresses).length ? { addresses } : {}),
    ...(opts.vars && Object.keys(opts.vars).length ? { vars: opts.vars } : {}),
    ...(opts.groupVars && Object.keys(opts.groupVars).length ? { groupVars: opts.groupVars } : {}),
    createdAt: new Date().toISOString(),
  };
  await writeState(state, hostKeys);
  log(`simulation ${sim}: ${hosts.length} hosts up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return state;
}

/** Remove simulation `name`: its containers (forced, no 10 s stop), its network and its state dir. */
export async function simDown(
  name: string,
  opts: SimCommonOptions = {},
): Promise<{ containers: number; networks: number }> {
  const log = opts.log ?? noLog;
  const containers = await listSimContainers(name);
  await Promise.all(
    containers.map((c) => docker().getContainer(c.Id).remove({ force: true, v: true }).catch((e: { statusCode?: number }) => {
      if (e.statusCode !== 404) throw e;
    })),
  );
  const nets = await listSimNetworks(name);
  for (const n of nets) {
    await docker().getNetwork(n.Id).remove().catch((e: { statusCode?: number }) => {
      if (e.statusCode !== 404) throw e;
    });
  }
  await rm(simStateDir(opts.projectRoot ?? process.cwd(), name), { recursive: true, force: true });
  log(`simulation ${name}: removed ${containers.length} containers, ${nets.length} network(s)`);
  return { containers: containers.length, networks: nets.length };
}

/** Remove every simulation (all Docker objects labelled `orch.sim`), e.g. leftovers of a crashed run. */
export async function simDownAll(
  opts: SimCommonOptions & { filter?: (simName: string) => boolean } = {},
): Promise<string[]> {
  const names = new Set<string>();
  for (const c of await listSimContainers()) names.add(c.Labels[LABEL_SIM]);
  for (const n of await listSimNetworks()) names.add(n.Labels?.[LABEL_SIM] ?? '');
  const selected = [...names].filter((n) => n && (!opts.filter || opts.filter(n)));
  for (const n of selected) await simDown(n, opts);
  return selected;
}

export interface SimHostStatus {
  sim: string;
  host: string;
  groups: string[];
  container: string;
  /** Docker state: running, exited, created ... */
  state: string;
  address?: string;
  /** seconds since start, when running */
  uptimeSeconds?: number;
}

/** Every simulated host (of simulation `name`, or of all), as Docker sees it now. */
export async function simStatus(name?: string): Promise<SimHostStatus[]> {
  const out: SimHostStatus[] = [];
  for (const c of await listSimContainers(name)) {
    const sim = c.Labels[LABEL_SIM];
    const netName = networkName(sim);
    const info = await docker().getContainer(c.Id).inspect().catch(() => undefined);
    const nets = info?.NetworkSettings?.Networks ?? {};
    const address =
      nets[netName]?.IPAddress || nets[netName]?.IPAMConfig?.IPv4Address || undefined;
    const started = info?.State?.StartedAt ? Date.parse(info.State.StartedAt) : NaN;
    out.push({
      sim,
      host: c.Labels[LABEL_HOST],
      groups: (c.Labels[LABEL_GROUPS] ?? '').split(',').filter(Boolean),
      container: (c.Names[0] ?? '').replace(/^\//, ''),
      state: c.State,
      address,
      uptimeSeconds: c.State === 'running' && !Number.isNaN(started) ? Math.max(0, Math.round((Date.now() - started) / 1000)) : undefined,
    });
  }
  out.sort((a, b) => (a.sim === b.sim ? a.host.localeCompare(b.host, 'en', { numeric: true }) : a.sim.localeCompare(b.sim)));
  return out;
}

async function findContainer(name: string, host: string): Promise<Docker.ContainerInfo> {
  const c = (await listSimContainers(name)).find((x) => x.Labels[LABEL_HOST] === host);
  if (!c) throw new Error(`simulation ${name} has no host ${host}`);
  return c;
}

/** Hard-kill one simulated host (SIGKILL, like pulling the plug); `simStart` brings it back. */
export async function simKill(name: string, host: string): Promise<void> {
  const c = await findContainer(name, host);
  if (c.State === 'running') await docker().getContainer(c.Id).kill();
}

/** Start a killed/stopped simulated host again (same container, address and host key) and wait for sshd. */
export async function simStart(
  name: string,
  host: string,
  opts: { log?: Log; readyTimeoutMs?: number } = {},
): Promise<void> {
  const c = await findContainer(name, host);
  const container = docker().getContainer(c.Id);
  const info = await container.inspect();
  if (!info.State.Running) await container.start();
  const ip = (await simStatus(name)).find((s) => s.host === host)?.address;
  if (!ip) throw new Error(`simulated host ${host} has no address on ${networkName(name)}`);
  await waitReady(c.Id, host, ip, opts.readyTimeoutMs ?? 120_000, opts.log ?? noLog);
}

/**
 * Like simDown, but synchronous (docker CLI): for process 'exit' and signal handlers, where nothing async runs.
 * Best effort, never throws.
 */
export function simDownSync(name: string, opts: { projectRoot?: string } = {}): void {
  const q = (args: string[]) => spawnSync('docker', args, { encoding: 'utf8', timeout: 60_000 });
  try {
    const ids = q(['ps', '-aq', '--filter', `label=${LABEL_SIM}=${name}`]).stdout?.split(/\s+/).filter(Boolean) ?? [];
    if (ids.length) q(['rm', '-f', '-v', ...ids]);
    const nets = q(['network', 'ls', '-q', '--filter', `label=${LABEL_SIM}=${name}`]).stdout?.split(/\s+/).filter(Boolean) ?? [];
    if (nets.length) q(['network', 'rm', ...nets]);
    rmSync(simStateDir(opts.projectRoot ?? process.cwd(), name), { recursive: true, force: true });
  } catch {
    /* best effort */
  }
}
