#!/usr/bin/env node
/**
 * orch vs Ansible, side by side, on the same simulated hosts (`npm run bench -- ...`).
 *
 *   npm run bench -- --hosts 5,20,50 [--reps 1] [--tools orch,ansible,mitogen,floor-ssh,floor-ssh2] [--profile]
 *                    [--skip ansible@50,...] [--layout sim|baseline] [--workload common|small] [--keep] [--no-build]
 *   npm run bench -- --report RUN_ID [--workload small]   re-render the report from results(.tsv) rows of that run
 *
 * Workloads (`--workload`):
 *   common  (default) the Ansible baseline's "datalyptica common role" (about 40 steps), orch role
 *           bench/roles/bench-common, Ansible: the baseline's workload.yml; report bench/results/latest.md
 *           and time-vs-hosts.svg, rows in results.tsv
 *   small   four tasks (a user, a log file, a copied file, one guarded shell command; engine issue 7
 *           section 6), orch role bench/roles/bench-small, Ansible: bench/playbooks/small.ansible.yml,
 *           state checked with bench/fingerprint-small.sh; report bench/results/N<N>-small.md, rows in
 *           results-small.tsv. Targets: orch within 1.5x of the ssh2 floor, >= 20x faster than Ansible.
 *
 * For every host count N (and repetition), and for every tool, on N FRESH hosts (Debian bookworm + systemd
 * containers, image variant `python` because Ansible needs python3 on the targets; orch does not use it):
 *   cold run (pristine hosts), warm run (immediately again: nothing may change), fingerprint of bench-h01.
 * Tools:
 *   orch        bin/orch run bench/playbooks/workload.yml --inventory <generated> --plain [--profile]
 *   ansible     ansible-playbook of the shared baseline workload.yml, ssh + pipelining + ControlPersist,
 *               forks=N (run.sh's `plain` mode)
 *   mitogen     the same with strategy mitogen_linear (run.sh's `mitogen` mode)
 *   floor-ssh   the same writes, no checks: one `ssh host sh -s <script` per host, all in parallel (OpenSSH)
 *   floor-ssh2  the same writes, no checks: one Node process, ssh2, all hosts at once (bench/floor-ssh2.mjs)
 * Measured per run: wall seconds, controller CPU seconds (user+sys of the whole child process tree, GNU
 * time), peak RSS of the largest controller process (GNU time %M) and peak PSS of the whole controller
 * process tree (sampled every 250 ms), CPU used inside the target containers (cgroup cpuacct).
 * Checks: every tool leaves bench-h01 in the same state (fingerprint.sh output, compared across tools and
 * with bench/reference/state-N<N>-bench-h01.txt when there is one); orch's warm run changes nothing.
 *
 * Writes bench/results/results.tsv (appended), bench/results/latest.md, bench/results/time-vs-hosts.svg,
 * and every tool's output under bench/results/logs/<run id>/.
 *
 * Hosts (`--layout`):
 *   sim       (default) src/sim's simUp: simulation `bench`, hosts bench-h01..bench-hNN on its own network,
 *             connection variables in the overlay .orch/sim/bench/overlay.yml (orch runs with `--sim`);
 *   baseline  containers bench-h01..bench-hNN on the Docker network `benchnet` (10.199.0.0/24), host i at
 *             10.199.0.(10+i), exactly as the Ansible baseline's run.sh: fingerprints are then also compared
 *             with its reference (bench/reference/state-N<N>-bench-h01.txt).
 * Only hosts this script created are removed, always (also on errors, SIGINT and SIGTERM); `--keep` leaves the
 * last set running for debugging.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { setInterval, clearInterval } from 'node:timers';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const BENCH = join(ROOT, 'bench');
const BASELINE = process.env.ANSIBLE_BASELINE ?? join(ROOT, '..', 'shared', 'bench', 'ansible-baseline');
const RESULTS = join(BENCH, 'results');
const NET = 'benchnet';
const SUBNET = '10.199.0.0/24';
const baselineIp = (i) => `10.199.0.${10 + i}`;
const nameOf = (i) => `bench-h${String(i).padStart(2, '0')}`;
const SYS_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const ALL_TOOLS = ['orch', 'ansible', 'mitogen', 'floor-ssh', 'floor-ssh2'];
const LABEL = { orch: 'orch', ansible: 'Ansible', mitogen: 'Ansible+Mitogen', 'floor-ssh': 'floor: OpenSSH', 'floor-ssh2': 'floor: ssh2' };

// ------------------------------------------------------------------ arguments
const { values: args } = parseArgs({
  options: {
    hosts: { type: 'string', default: '5' },
    reps: { type: 'string', default: '1' },
    tools: { type: 'string', default: ALL_TOOLS.join(',') },
    profile: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    layout: { type: 'string', default: 'sim' },
    workload: { type: 'string', default: 'common' },
    skip: { type: 'string', default: '' },
    report: { type: 'string' },
    'no-build': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  process.stdout.write(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0].replace(/^#!.*\n\/\*\*?/, '').replace(/^ \* ?/gm, ''));
  process.exit(0);
}
const HOSTS = args.hosts.split(',').map((s) => Number(s.trim()));
const REPS = Number(args.reps);
const TOOLS = args.tools.split(',').map((s) => s.trim()).filter(Boolean);
/** `--skip ansible@50,mitogen@50`: tool/host-count pairs not to run (plain Ansible at 50 hosts takes about 15 minutes) */
const SKIP = new Set(args.skip.split(',').map((s) => s.trim()).filter(Boolean));
for (const k of SKIP) if (!/^[a-z0-9-]+@\d+$/.test(k) || !ALL_TOOLS.includes(k.split('@')[0])) die(`--skip: expected TOOL@N, e.g. ansible@50, got ${k}`);
for (const n of HOSTS) if (!Number.isInteger(n) || n < 1 || n > 200) die(`--hosts: ${n} is not a host count from 1 to 200`);
if (!Number.isInteger(REPS) || REPS < 1) die('--reps must be a positive integer');
for (const t of TOOLS) if (!ALL_TOOLS.includes(t)) die(`--tools: unknown tool ${t} (known: ${ALL_TOOLS.join(', ')})`);
if (!['common', 'small'].includes(args.workload)) die('--workload is common (the Ansible baseline\'s ~40 steps, the default) or small (4 tasks)');
const SMALL_WL = args.workload === 'small';
if (!['sim', 'baseline'].includes(args.layout)) die('--layout is sim (src/sim simUp, the default) or baseline (run.sh\'s fixed 10.199.0.x addresses)');
// the workload downloads nothing: no apt cache for the simulated hosts (and no traffic beyond them)
process.env.ORCH_SIM_APT_PROXY = 'off';
const SIM_NAME = 'bench'; // simulation name = the generated inventory's file name (bench.yml), as `orch run --sim` expects

function die(msg) {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(2);
}
const log = (msg) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

// ------------------------------------------------------------------ small process helpers
/** Run a command to completion (not timed); rejects on a non-zero exit unless `ok` accepts it. */
function sh(cmd, argv, o = {}) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 64 << 20, env: o.env ?? process.env, input: o.input, timeout: o.timeoutMs });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0 && !o.allowFail) throw new Error(`${cmd} ${argv.join(' ')} failed (exit ${r.status}): ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join('\n')}`);
  return r;
}
function shAsync(cmd, argv, o = {}) {
  return new Promise((resolve) => {
    const c = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: o.env ?? process.env });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    const t = o.timeoutMs ? setTimeout(() => c.kill('SIGKILL'), o.timeoutMs) : undefined;
    c.on('close', (code) => {
      if (t) clearTimeout(t);
      resolve({ code: code ?? 255, stdout: out, stderr: err });
    });
    c.on('error', (e) => resolve({ code: 255, stdout: out, stderr: e.message }));
  });
}
async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sha12 = (s) => createHash('sha256').update(s).digest('hex').slice(0, 12);

// ------------------------------------------------------------------ cleanup (always)
const created = new Set(); // container names this process created
const running = new Set(); // timed child processes (process group leaders)
let createdNetwork = false;
let cleaning;
async function cleanup() {
  cleaning ??= (async () => {
    for (const c of running) {
      try {
        process.kill(-c.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    closeMasters();
    if (!args.keep || interrupted) await destroyHosts();
    else if (created.size || simActive) log(`--keep: leaving the last hosts running (${args.layout === 'sim' ? `orch sim down --inventory ${SIM_NAME}, or docker rm -f` : 'docker rm -f'} ...)`);
    if (createdNetwork && created.size === 0) sh('docker', ['network', 'rm', NET], { allowFail: true });
    rmSync(CPBASE, { recursive: true, force: true });
  })();
  return cleaning;
}
let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (interrupted) return;
    interrupted = true;
    log(`${sig}: removing the bench hosts and stopping`);
    cleanup().finally(() => process.exit(130));
  });
}

// ------------------------------------------------------------------ preflight
const RUN_ID = `${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}-N${HOSTS.join('_')}${SMALL_WL ? '-small' : ''}`;
const WORK = join('/tmp', 'orch-bench', RUN_ID);
const CPBASE = join('/tmp', 'bench-cp', String(process.pid)); // ssh ControlPath dirs: short (unix socket path < 108 bytes)
const LOGS = join(RESULTS, 'logs', RUN_ID);
const BASELINE_KEY = join(WORK, 'id_ed25519'); // --layout baseline only; sim hosts use the simulation's key
const FINGERPRINT = SMALL_WL
  ? join(BENCH, 'fingerprint-small.sh')
  : existsSync(join(BASELINE, 'fingerprint.sh')) ? join(BASELINE, 'fingerprint.sh') : join(BENCH, 'fingerprint.sh');
const ANSIBLE_PLAYBOOK = SMALL_WL ? join(BENCH, 'playbooks', 'small.ansible.yml') : join(BASELINE, 'workload.yml');
const MITOGEN_STRATEGY_DIR = '/usr/lib/python3/dist-packages/ansible_mitogen/plugins/strategy';
const ORCH_PLAYBOOK = join(BENCH, 'playbooks', SMALL_WL ? 'small.yml' : 'workload.yml');
const ROLE = SMALL_WL ? 'bench-small' : 'bench-common';

function preflight() {
  sh('docker', ['info'], { allowFail: false });
  if (!existsSync('/usr/bin/time')) die('GNU time (/usr/bin/time) is needed: apt-get install -y time');
  if (TOOLS.includes('ansible') || TOOLS.includes('mitogen')) {
    if (sh('sh', ['-c', 'command -v ansible-playbook'], { allowFail: true, env: { ...process.env, PATH: SYS_PATH } }).status !== 0)
      die('ansible-playbook not found: apt-get install -y ansible-core python3-mitogen ansible-mitogen');
    if (!existsSync(ANSIBLE_PLAYBOOK)) die(`the Ansible playbook is missing: ${ANSIBLE_PLAYBOOK}${SMALL_WL ? '' : ' (set ANSIBLE_BASELINE)'}`);
  }
  if (TOOLS.includes('mitogen') && !existsSync(join(MITOGEN_STRATEGY_DIR, 'mitogen_linear.py'))) die('mitogen_linear not found: apt-get install -y ansible-mitogen');
  const mine = sh('docker', ['ps', '-a', '--format', '{{.Names}}']).stdout.split('\n').filter((n) => /^bench-h\d+$/.test(n));
  if (mine.length) die(`containers ${mine.join(' ')} already exist (another benchmark running?): remove them first`);
  const sims = sh('docker', ['ps', '-aq', '--filter', `label=orch.sim=${SIM_NAME}`]).stdout.trim();
  if (sims) die(`a simulation named ${SIM_NAME} already exists (another benchmark running?): \`bin/orch sim down --inventory ${SIM_NAME}\` or docker rm -f its containers first`);
  // inotify: every container's systemd holds a few instances, all as host uid 0
  const max = Number(readFileSync('/proc/sys/fs/inotify/max_user_instances', 'utf8'));
  if (Math.max(...HOSTS) * 5 + 64 > max) die(`fs.inotify.max_user_instances=${max} is too low for ${Math.max(...HOSTS)} hosts (about 5 per host)`);
}

function build() {
  const entry = join(ROOT, 'dist', 'src', 'cli', 'main.js');
  const role = join(ROOT, 'dist', 'bench', 'roles', ROLE, 'index.js');
  if (args['no-build'] && existsSync(entry) && existsSync(role)) return;
  log('building orch (tsc -p tsconfig.build.json) ...');
  const r = sh(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', join(ROOT, 'tsconfig.build.json')], { allowFail: true });
  if (r.status !== 0) log(`warning: tsc reported errors (exit ${r.status}); using what it emitted:\n${r.stdout.trim().split('\n').slice(0, 15).join('\n')}`);
  if (!existsSync(entry) || !existsSync(role)) die(`the build did not produce dist/src/cli/main.js and dist/bench/roles/${ROLE}/index.js`);
}

// ------------------------------------------------------------------ hosts
let IMAGE;
let sim; // dist/src/sim/index.js
async function simModule() {
  sim ??= await import(pathToFileURL(join(ROOT, 'dist', 'src', 'sim', 'index.js')).href);
  return sim;
}
async function image() {
  if (IMAGE) return IMAGE;
  const { ensureImage } = await simModule();
  IMAGE = await ensureImage({ variant: 'python', log: (l) => log(`image: ${l}`) });
  return IMAGE;
}

function ensureNetwork() {
  if (sh('docker', ['network', 'inspect', NET], { allowFail: true }).status === 0) return;
  sh('docker', ['network', 'create', '--subnet', SUBNET, NET]);
  createdNetwork = true;
}

let simActive = false;
/**
 * Remove the hosts. Between tools (`final` false) a simulation keeps its network and state dir, so the next
 * simUp hands out the same addresses again (same rendered files, comparable fingerprints); `final` removes all.
 */
async function destroyHosts(final = true) {
  if (simActive) {
    if (final) {
      const { simDownSync } = await simModule();
      simDownSync(SIM_NAME, { projectRoot: ROOT });
      simActive = false;
    } else {
      const ids = sh('docker', ['ps', '-aq', '--filter', `label=orch.sim=${SIM_NAME}`]).stdout.split(/\s+/).filter(Boolean);
      if (ids.length) await shAsync('docker', ['rm', '-f', '-v', ...ids], { timeoutMs: 180_000 });
    }
  }
  const names = [...created];
  if (!names.length) return;
  await shAsync('docker', ['rm', '-f', ...names], { timeoutMs: 180_000 });
  for (const n of names) created.delete(n);
}

const SSH_BASE = ['-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=5'];

/**
 * N fresh hosts bench-h01..: the previous ones removed, new containers started, systemd up, host keys known.
 * Returns how to reach them: address of host i, private key, known_hosts file, container ids, and (sim) the
 * overlay that `orch run --sim` merges over the inventory.
 */
async function freshHosts(n, dir) {
  closeMasters();
  await destroyHosts(false);
  const t0 = Date.now();
  const idx = Array.from({ length: n }, (_, k) => k + 1);
  let hosts;
  if (args.layout === 'sim') {
    const { simUp } = await simModule();
    simActive = true;
    const st = await simUp({
      name: SIM_NAME,
      projectRoot: ROOT,
      variant: 'python',
      hosts: idx.map((i) => ({ name: nameOf(i), groups: ['all', 'bench'] })),
      concurrency: 8,
      readyTimeoutMs: 300_000,
      log: (l) => (/ready \(|started /.test(l) ? undefined : log(`sim: ${l}`)),
    });
    IMAGE = st.image;
    const byName = new Map(st.hosts.map((h) => [h.name, h]));
    hosts = {
      n,
      ids: idx.map((i) => byName.get(nameOf(i)).containerId),
      addr: (i) => byName.get(nameOf(i)).address,
      key: st.keyFile,
      known: st.knownHostsFile,
      overlay: st.overlayFile,
      network: `${st.network.name} ${st.network.subnet}`,
    };
  } else {
    const img = await image();
    ensureNetwork();
    await pool(idx, 8, async (i) => {
      const name = nameOf(i);
      created.add(name);
      const r = await shAsync('docker', [
        'run', '-d', '--name', name, '--hostname', name, '--network', NET, '--ip', baselineIp(i),
        '--cap-add', 'SYS_ADMIN', '--cap-add', 'NET_ADMIN', '--security-opt', 'seccomp=unconfined',
        '--security-opt', 'systempaths=unconfined', '--cgroupns=host', '-v', '/sys/fs/cgroup:/sys/fs/cgroup:rw',
        '--tmpfs', '/run', '--tmpfs', '/run/lock',
        '-v', `${BASELINE_KEY}.pub:/root/.ssh/authorized_keys:ro`,
        img, '/lib/systemd/systemd',
      ]);
      if (r.code !== 0) throw new Error(`docker run ${name} failed: ${r.stderr.trim()}`);
    });
    // sshd answering and systemd done booting, on every host
    const insecure = ['-i', BASELINE_KEY, ...SSH_BASE, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null'];
    const deadline = Date.now() + 300_000;
    await pool(idx, 10, async (i) => {
      for (;;) {
        const r = await shAsync('ssh', [...insecure, `root@${baselineIp(i)}`, 'timeout 120 systemctl is-system-running --wait >/dev/null 2>&1; true'], { timeoutMs: 150_000 });
        if (r.code === 0) return;
        if (Date.now() > deadline) throw new Error(`host ${nameOf(i)} not ready after 300 s: ${r.stderr.trim()}`);
        await sleep(1000);
      }
    });
    // known_hosts from the containers' own host keys (generated at first boot)
    const lines = await pool(idx, 10, async (i) => {
      const r = await shAsync('docker', ['exec', nameOf(i), 'sh', '-c', 'cat /etc/ssh/ssh_host_*_key.pub']);
      if (r.code !== 0) throw new Error(`reading ${nameOf(i)}'s host keys failed: ${r.stderr}`);
      return r.stdout.trim().split('\n').map((l) => `${baselineIp(i)} ${l.split(' ').slice(0, 2).join(' ')}`).join('\n');
    });
    const known = join(dir, 'known_hosts');
    writeFileSync(known, lines.join('\n') + '\n');
    hosts = {
      n,
      ids: sh('docker', ['inspect', '-f', '{{.Id}}', ...idx.map(nameOf)]).stdout.trim().split('\n'),
      addr: baselineIp,
      key: BASELINE_KEY,
      known,
      overlay: null,
      network: `${NET} ${SUBNET}`,
    };
  }
  log(`${n} fresh hosts ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (${hosts.network}, bench-h01 = ${hosts.addr(1)})`);
  return hosts;
}

/** cgroup v1 cpuacct of the bench containers (ns); null when not available. */
function targetsCpuNs(hosts) {
  let sum = 0;
  for (const id of hosts.ids) {
    const f = [`/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`, `/sys/fs/cgroup/cpu,cpuacct/docker/${id}/cpuacct.usage`].find(existsSync);
    if (!f) return null;
    sum += Number(readFileSync(f, 'utf8'));
  }
  return sum;
}
function cpuStat() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { total: f.reduce((a, b) => a + b, 0), idle: f[3] + f[4] };
}

// ------------------------------------------------------------------ inventories and configs
function writeInventories(dir, hosts) {
  mkdirSync(dir, { recursive: true });
  const idx = Array.from({ length: hosts.n }, (_, k) => k + 1);
  // orch: YAML (Ansible's inventory format). With --layout sim the connection variables come from the
  // simulation's overlay (`orch run --sim`), as a user would run it; file name = simulation name.
  const conn = hosts.overlay
    ? []
    : ['  vars:', '    ansible_user: root', `    ansible_ssh_private_key_file: ${hosts.key}`, `    orch_known_hosts: ${hosts.known}`];
  const yml = [
    '# generated by bench/run.mjs',
    'all:',
    ...conn,
    '  children:',
    '    bench:',
    '      hosts:',
    ...idx.map((i) => `        ${nameOf(i)}: { ${hosts.overlay ? '' : `ansible_host: ${hosts.addr(i)}, `}node_id: ${i} }`),
  ].join('\n');
  writeFileSync(join(dir, `${SIM_NAME}.yml`), yml + '\n');
  // Ansible: INI, exactly as run.sh (addresses and key of these hosts)
  const ini = [
    '[bench]',
    ...idx.map((i) => `${nameOf(i)} ansible_host=${hosts.addr(i)} node_id=${i}`),
    '',
    '[bench:vars]',
    'ansible_user=root',
    `ansible_ssh_private_key_file=${hosts.key}`,
    'ansible_python_interpreter=/usr/bin/python3',
  ].join('\n');
  writeFileSync(join(dir, 'inventory.ini'), ini + '\n');
  return { orch: join(dir, `${SIM_NAME}.yml`), ansible: join(dir, 'inventory.ini') };
}

/** run.sh's write_cfg: `plain` = ssh + pipelining + ControlPersist, forks=N; `mitogen` = + mitogen_linear. */
function writeAnsibleCfg(dir, mode, n, inventory, cpdir) {
  mkdirSync(cpdir, { recursive: true });
  const cfg = [
    '[defaults]',
    `inventory = ${inventory}`,
    `forks = ${n}`,
    'gathering = explicit',
    'host_key_checking = False',
    'retry_files_enabled = False',
    'interpreter_python = /usr/bin/python3',
    'stdout_callback = default',
    'deprecation_warnings = False',
    `local_tmp = ${join(dir, 'ansible-local-tmp')}`,
    ...(mode === 'mitogen' ? [`strategy_plugins = ${MITOGEN_STRATEGY_DIR}`, 'strategy = mitogen_linear'] : []),
    '',
    '[ssh_connection]',
    'pipelining = True',
    'ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o PreferredAuthentications=publickey',
    `control_path_dir = ${cpdir}`,
    'control_path = %(directory)s/%%C',
  ].join('\n');
  const f = join(dir, `ansible-${mode}.cfg`);
  writeFileSync(f, cfg + '\n');
  return f;
}

/** Ask Ansible's ControlPersist masters of this run to exit (our own ssh processes only). */
function closeMasters() {
  if (!existsSync(CPBASE)) return;
  for (const d of readdirSync(CPBASE)) {
    const dir = join(CPBASE, d);
    for (const s of readdirSync(dir)) {
      const p = join(dir, s);
      try {
        if (statSync(p).isSocket()) sh('ssh', ['-o', `ControlPath=${p}`, '-O', 'exit', 'dummy'], { allowFail: true, timeoutMs: 5000 });
      } catch {
        /* gone */
      }
    }
  }
}

// ------------------------------------------------------------------ floors: the same writes, no checks
let render;
async function floorScript(i, hosts) {
  if (SMALL_WL) return floorScriptSmall(i, hosts);
  const n = hosts.n;
  render ??= await import(pathToFileURL(join(ROOT, 'dist', 'bench', 'roles', 'bench-common', 'render.js')).href);
  const { WORKLOAD: W, WORKLOAD_SETTINGS, managedFiles, HOME } = render;
  const nodes = Array.from({ length: n }, (_, k) => ({ name: nameOf(k + 1), id: k + 1, ip: hosts.addr(k + 1) }));
  const files = managedFiles({ settings: WORKLOAD_SETTINGS, self: nodes[i - 1], nodes });
  const u = W.user;
  const rel = `${HOME}/releases/${W.version}`;
  const out = [
    'set -e',
    `export LC_ALL=C PATH=${SYS_PATH}`,
    `groupadd -f -r -g ${W.gid} ${u}`,
    `id -u ${u} >/dev/null 2>&1 || useradd -u ${W.uid} -g ${u} -d ${HOME} -s /usr/sbin/nologin -M -r ${u}`,
    `mkdir -p ${W.dirs.join(' ')} ${rel} /etc/datalyptica /etc/systemd/journald.conf.d /etc/security/limits.d /etc/tmpfiles.d /etc/logrotate.d /etc/sysctl.d /etc/sudoers.d /etc/profile.d`,
    `chown ${u}:${u} ${W.dirs.join(' ')} ${rel}`,
    `chmod 0750 ${W.dirs.join(' ')} ${rel}`,
    `chown root:${u} /etc/datalyptica && chmod 0750 /etc/datalyptica`,
    'chown root:root /etc/systemd/journald.conf.d && chmod 0755 /etc/systemd/journald.conf.d',
    `ln -sfn ${rel} ${HOME}/current`,
  ];
  for (const f of files) {
    if (f.content.includes('\nORCH_EOF\n')) throw new Error(`heredoc marker inside ${f.path}`);
    out.push(`cat >${f.path} <<'ORCH_EOF'\n${f.content}ORCH_EOF`, `chown ${f.owner}:${f.group} ${f.path} && chmod ${f.mode} ${f.path}`);
  }
  for (const s of W.sysctl.filter((x) => x.key.startsWith('net.'))) out.push(`sysctl -q -w '${s.key}=${s.value}'`);
  const units = W.services.map((k) => `orch-bench-${k}`);
  out.push('systemctl daemon-reload', `systemctl enable --now --quiet ${units.join(' ')}`);
  return out.join('\n') + '\n';
}

/** The small workload's four tasks, no checks (the init command keeps its `creates` guard: it is the task). */
let renderSmall;
async function floorScriptSmall(i, hosts) {
  renderSmall ??= await import(pathToFileURL(join(ROOT, 'dist', 'bench', 'roles', 'bench-small', 'render.js')).href);
  const { SMALL: S, configFile, initScript } = renderSmall;
  const u = S.user;
  const conf = configFile({ name: nameOf(i), nodeId: i, clusterSize: hosts.n });
  if (conf.includes('\nORCH_EOF\n')) throw new Error(`heredoc marker inside ${S.configFile}`);
  return [
    'set -e',
    `export LC_ALL=C PATH=${SYS_PATH}`,
    `id -u ${u} >/dev/null 2>&1 || useradd -u ${S.uid} -d ${S.home} -s ${S.shell} -M -r ${u}`,
    `: >>${S.logFile} && chown ${u}:${u} ${S.logFile} && chmod 0640 ${S.logFile}`,
    `cat >${S.configFile} <<'ORCH_EOF'\n${conf}ORCH_EOF`,
    `chown root:${u} ${S.configFile} && chmod 0640 ${S.configFile}`,
    `if [ ! -e ${S.marker} ]; then\n${initScript()}\nfi`,
  ].join('\n') + '\n';
}

async function writeFloor(dir, h) {
  mkdirSync(dir, { recursive: true });
  const hosts = [];
  for (let i = 1; i <= h.n; i++) {
    const f = join(dir, `floor-${nameOf(i)}.sh`);
    writeFileSync(f, await floorScript(i, h));
    hosts.push({ name: nameOf(i), address: h.addr(i), script: f });
  }
  const manifest = join(dir, 'floor-ssh2.json');
  writeFileSync(manifest, JSON.stringify({ key: h.key, user: 'root', hosts }, null, 1));
  const opts = ['-i', h.key, ...SSH_BASE, '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${h.known}`, '-o', 'ControlMaster=no', '-o', 'ControlPath=none'].join(' ');
  const driver = [
    '#!/bin/sh',
    '# floor-ssh: one ssh per host, all at once, each running its script; exit 1 if any failed',
    'pids=""',
    ...hosts.map((h) => `ssh ${opts} root@${h.address} sh -s <${h.script} >${h.script}.out 2>&1 & pids="$pids $!"`),
    'rc=0',
    'for p in $pids; do wait "$p" || rc=1; done',
    'exit $rc',
  ].join('\n');
  const drv = join(dir, 'floor-ssh.sh');
  writeFileSync(drv, driver + '\n');
  chmodSync(drv, 0o755);
  return { manifest, driver: drv };
}

// ------------------------------------------------------------------ one timed run
/** Peak PSS (kB) of a process tree, sampled. */
function treePss(rootPid) {
  let sum = 0;
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop();
    try {
      const m = /^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      if (m) sum += Number(m[1]);
      for (const t of readdirSync(`/proc/${pid}/task`)) {
        const ch = readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim();
        if (ch) stack.push(...ch.split(/\s+/).map(Number));
      }
    } catch {
      /* exited meanwhile */
    }
  }
  return sum;
}

async function timed(label, cmd, argv, { env, logFile, hosts }) {
  const tf = `${logFile}.time`;
  const load1 = loadavg()[0];
  const tc0 = targetsCpuNs(hosts);
  const st0 = cpuStat();
  const t0 = performance.now();
  const child = spawn('/usr/bin/time', ['-f', '%e %U %S %M', '-o', tf, cmd, ...argv], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // own process group: killed as a whole on SIGINT
  });
  running.add(child);
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  let peakPss = 0;
  const sampler = setInterval(() => {
    peakPss = Math.max(peakPss, treePss(child.pid));
  }, 250);
  const code = await new Promise((resolve) => child.on('close', (c) => resolve(c ?? 255)));
  clearInterval(sampler);
  running.delete(child);
  const wall = (performance.now() - t0) / 1000;
  const tc1 = targetsCpuNs(hosts);
  const st1 = cpuStat();
  writeFileSync(logFile, out);
  const tl = existsSync(tf) ? readFileSync(tf, 'utf8').trim().split('\n').pop() : '';
  const m = /^([\d.]+) ([\d.]+) ([\d.]+) (\d+)$/.exec(tl ?? '');
  const busy = st1.total - st0.total > 0 ? (100 * (st1.total - st0.total - (st1.idle - st0.idle))) / (st1.total - st0.total) : NaN;
  return {
    label,
    code,
    out,
    wall,
    user: m ? Number(m[2]) : NaN,
    sys: m ? Number(m[3]) : NaN,
    maxrssKb: m ? Number(m[4]) : NaN,
    treePssKb: peakPss,
    targetsCpu: tc0 === null || tc1 === null ? NaN : (tc1 - tc0) / 1e9,
    busyPct: busy,
    load1,
  };
}

// ------------------------------------------------------------------ output parsing
/** orch --plain: RECAP rows and the --profile line. */
function parseOrch(out) {
  const rows = [];
  for (const l of out.split('\n')) {
    const m = /^(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+)s$/.exec(l.trim());
    if (m && m[1] !== 'RECAP') rows.push({ host: m[1], ok: +m[2], changed: +m[3], skipped: +m[4], failed: +m[5], unreachable: +m[6] });
  }
  const p = /^profile \(summed over hosts, ms\): (.*)$/m.exec(out);
  const profile = p ? Object.fromEntries(p[1].trim().split(/\s+/).map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)])) : null;
  return { rows, profile };
}
/** ansible-playbook: PLAY RECAP rows. */
function parseAnsible(out) {
  const rec = out.split('PLAY RECAP')[1] ?? '';
  const rows = [];
  for (const l of rec.split('\n')) {
    if (!l.includes(': ok=')) continue;
    const kv = Object.fromEntries([...l.matchAll(/(\w+)=(\d+)/g)].map((m) => [m[1], Number(m[2])]));
    rows.push({ host: l.split(':')[0].trim(), ok: kv.ok, changed: kv.changed, skipped: kv.skipped, failed: kv.failed, unreachable: kv.unreachable });
  }
  return { rows, profile: null };
}
function summarise(rows, n) {
  if (rows.length === 0) return { hosts: 0, ok: '-', changed: '-', skipped: '-', failed: '-', unreachable: '-', uniform: false, changedTotal: NaN };
  const r0 = rows[0];
  const uniform = rows.every((r) => r.ok === r0.ok && r.changed === r0.changed && r.skipped === r0.skipped);
  const sum = (k) => rows.reduce((a, r) => a + r[k], 0);
  return { hosts: rows.length, ok: r0.ok, changed: r0.changed, skipped: r0.skipped, failed: sum('failed'), unreachable: sum('unreachable'), uniform: uniform && rows.length === n, changedTotal: sum('changed') };
}

async function fingerprint(file, hosts) {
  const r = await shAsync('bash', [FINGERPRINT, hosts.addr(1), hosts.key], { timeoutMs: 60_000 });
  writeFileSync(file, r.stdout + (r.code ? `\n# exit ${r.code}: ${r.stderr}` : ''));
  return r.code === 0 ? { sha: sha12(r.stdout), text: r.stdout } : { sha: 'err', text: r.stdout };
}
function referenceSha(n) {
  if (args.layout !== 'baseline' || SMALL_WL) return null; // the reference was taken at 10.199.0.x: other addresses render other files
  for (const f of [join(BENCH, 'reference', `state-N${n}-bench-h01.txt`), join(BASELINE, 'reference', `state-N${n}-bench-h01.txt`)]) {
    if (existsSync(f)) return sha12(readFileSync(f, 'utf8'));
  }
  return null;
}

// ------------------------------------------------------------------ one tool on fresh hosts: cold + warm
const TSV = join(RESULTS, SMALL_WL ? 'results-small.tsv' : 'results.tsv');
const TSV_COLS = ['run_id', 'date', 'N', 'tool', 'rep', 'phase', 'wall_s', 'ctrl_user_s', 'ctrl_sys_s', 'ctrl_cpu_s', 'maxrss_kb', 'tree_pss_peak_kb', 'targets_cpu_s', 'machine_busy_pct', 'load1_before', 'rc', 'recap_hosts', 'ok', 'changed', 'skipped', 'failed_total', 'unreachable_total', 'uniform', 'state_sha', 'state_ref_sha', 'profile', 'changed_total', 'layout'];
const records = [];

async function runTool(tool, n, rep) {
  const dir = join(WORK, `N${n}-${tool}-r${rep}`);
  mkdirSync(dir, { recursive: true });
  log(`N=${n} ${tool} rep ${rep}: creating ${n} fresh hosts`);
  const hosts = await freshHosts(n, dir);
  const inv = writeInventories(dir, hosts);
  let cmd;
  let argv;
  let env = {};
  let parse = () => ({ rows: [], profile: null });
  if (tool === 'orch') {
    cmd = process.execPath;
    argv = [join(ROOT, 'bin', 'orch'), 'run', ORCH_PLAYBOOK, '--inventory', inv.orch, ...(hosts.overlay ? ['--sim'] : []), '--plain', ...(args.profile ? ['--profile'] : [])];
    parse = parseOrch;
  } else if (tool === 'ansible' || tool === 'mitogen') {
    const cfg = writeAnsibleCfg(dir, tool === 'ansible' ? 'plain' : 'mitogen', n, inv.ansible, join(CPBASE, `${tool}-${n}-${rep}`));
    cmd = 'ansible-playbook';
    argv = [ANSIBLE_PLAYBOOK];
    env = { ANSIBLE_CONFIG: cfg, PATH: SYS_PATH };
    parse = parseAnsible;
  } else if (tool === 'floor-ssh') {
    const f = await writeFloor(dir, hosts);
    cmd = f.driver;
    argv = [];
  } else {
    const f = await writeFloor(dir, hosts);
    cmd = process.execPath;
    argv = [join(BENCH, 'floor-ssh2.mjs'), f.manifest];
  }
  const refSha = referenceSha(n);
  const result = { tool, n, rep };
  for (const phase of ['cold', 'warm']) {
    await sleep(2000);
    const r = await timed(`${tool} ${phase}`, cmd, argv, { env, logFile: join(LOGS, `N${n}-${tool}-r${rep}-${phase}.log`), hosts });
    const parsed = parse(r.out);
    const s = summarise(parsed.rows, n);
    const fp = r.code === 0 ? await fingerprint(join(LOGS, `N${n}-${tool}-r${rep}-${phase}.state.txt`), hosts) : { sha: '-' };
    const rec = { ...r, tool, n, rep, phase, summary: s, profile: parsed.profile, stateSha: fp.sha, refSha };
    result[phase] = rec;
    records.push(rec);
    const row = {
      run_id: RUN_ID, date: new Date().toISOString(), N: n, tool, rep, phase, wall_s: r.wall.toFixed(3), ctrl_user_s: r.user, ctrl_sys_s: r.sys,
      ctrl_cpu_s: (r.user + r.sys).toFixed(2), maxrss_kb: r.maxrssKb, tree_pss_peak_kb: r.treePssKb, targets_cpu_s: r.targetsCpu.toFixed(2),
      machine_busy_pct: r.busyPct.toFixed(0), load1_before: r.load1.toFixed(2), rc: r.code, recap_hosts: s.hosts, ok: s.ok, changed: s.changed,
      skipped: s.skipped, failed_total: s.failed, unreachable_total: s.unreachable, uniform: s.uniform ? 'yes' : 'no', state_sha: fp.sha,
      state_ref_sha: refSha ?? '-', changed_total: s.changedTotal, layout: args.layout, profile: parsed.profile ? Object.entries(parsed.profile).map(([k, v]) => `${k}=${Math.round(v)}`).join(',') : '-',
    };
    if (!existsSync(TSV)) writeFileSync(TSV, TSV_COLS.join('\t') + '\n');
    else if (!readFileSync(TSV, 'utf8').split('\n')[0].includes('\tlayout')) die(`${TSV} has an older header: move it away first`);
    appendFileSync(TSV, TSV_COLS.map((c) => String(row[c])).join('\t') + '\n');
    log(
      `N=${n} ${tool} ${phase}: ${r.wall.toFixed(2)} s, exit ${r.code}, ctrl CPU ${(r.user + r.sys).toFixed(2)} s, maxrss ${(r.maxrssKb / 1024).toFixed(0)} MB, ` +
        `tree PSS ${(r.treePssKb / 1024).toFixed(0)} MB, targets CPU ${r.targetsCpu.toFixed(1)} s` +
        (s.hosts ? `, per host ok=${s.ok} changed=${s.changed} skipped=${s.skipped} (uniform ${s.uniform ? 'yes' : 'no'}), failed ${s.failed}` : '') +
        `, state ${fp.sha}${refSha ? (fp.sha === refSha ? ' = reference' : ` != reference ${refSha}`) : ''}`,
    );
    if (r.code !== 0) log(`  ${tool} ${phase} failed; last lines:\n${r.out.trim().split('\n').slice(-15).map((l) => `    ${l}`).join('\n')}`);
    if (tool === 'orch' && parsed.profile) log(`  orch profile (${phase}): ${profileLine(parsed.profile, n)}`);
  }
  closeMasters();
  return result;
}

function profileLine(p, n) {
  const order = ['connect', 'host-facts', 'render', 'facts', 'diff', 'apply', 'upload', 'prepare'];
  const keys = [...order.filter((k) => k in p), ...Object.keys(p).filter((k) => !order.includes(k))];
  return keys.map((k) => `${k} ${(p[k] / 1000).toFixed(2)} s (${(p[k] / n).toFixed(0)} ms/host)`).join(', ');
}

// ------------------------------------------------------------------ report
const median = (xs) => {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
function stat(n, tool, phase, f) {
  return median(records.filter((r) => r.n === n && r.tool === tool && r.phase === phase && r.code === 0).map(f));
}
const fmt = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const times = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(1)}x` : '-');

function report(meta = { runId: RUN_ID, command: `npm run bench -- ${process.argv.slice(2).join(' ')}`, date: new Date().toISOString(), layout: args.layout }) {
  const L = [];
  const Ns = [...new Set(records.map((r) => r.n))].sort((a, b) => a - b);
  const tools = ALL_TOOLS.filter((t) => records.some((r) => r.tool === t));
  const reps = Math.max(...records.map((r) => r.rep));
  const wall = (n, t, p) => stat(n, t, p, (r) => r.wall);
  L.push(`# orch vs Ansible benchmark: run ${meta.runId}`, '');
  L.push(
    `Generated by \`${meta.command}\` (bench/run.mjs) on ` +
      `${meta.date}. Controller and all targets share this machine's ${cpus().length} CPUs. ` +
      (SMALL_WL
        ? 'Workload `small` (bench/roles/bench-small/render.ts: a user, a log file, a copied file, one shell command guarded by `creates`; no downloads). '
        : 'Workload: shared/bench/ansible-baseline/WORKLOAD.md (about 40 steps, no downloads). ') +
      `Every tool ran on its own fresh hosts ` +
      `(image ${IMAGE ?? 'orch-testhost:python'}, layout \`${meta.layout}\`); cold = first run on pristine hosts, warm = the run right after it. ` +
      `Seconds are medians over ${reps} repetition(s).`,
    '',
  );
  L.push('## Time, controller CPU and memory', '');
  L.push('| N | tool | cold s | warm s | ctrl CPU s cold/warm | largest process RSS MB (max) | process tree PSS MB (peak) | targets CPU s cold/warm | per host cold -> warm (ok/changed/skipped) | state of bench-h01 | load avg before cold/warm |');
  L.push('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const n of Ns) {
    const ref = referenceSha(n);
    const orchSha = records.find((r) => r.n === n && r.tool === 'orch' && r.phase === 'warm')?.stateSha;
    for (const t of tools) {
      const rs = records.filter((r) => r.n === n && r.tool === t);
      if (!rs.length) {
        L.push(`| ${n} | ${LABEL[t]} | not run | | | | | | | | |`);
        continue;
      }
      const c = rs.filter((r) => r.phase === 'cold');
      const w = rs.filter((r) => r.phase === 'warm');
      const lastC = c[c.length - 1];
      const lastW = w[w.length - 1];
      const counts = (r) => (r?.summary?.hosts ? `${r.summary.ok}/${r.summary.changed}/${r.summary.skipped}${r.summary.uniform ? '' : ' (not uniform)'}` : '-');
      const shas = [...new Set(rs.map((r) => r.stateSha))];
      const state =
        shas.length === 1 && shas[0] !== '-' && shas[0] !== 'err'
          ? `${shas[0]}${ref ? (shas[0] === ref ? ' = reference' : ' **differs from reference**') : ''}${/^[0-9a-f]{12}$/.test(orchSha ?? '') && t !== 'orch' ? (shas[0] === orchSha ? ', = orch' : ', **differs from orch**') : ''}`
          : `**${shas.join(', ')}**`;
      const failed = rs.filter((r) => r.code !== 0).map((r) => `${r.phase} exit ${r.code}`);
      L.push(
        `| ${n} | ${LABEL[t]} | ${fmt(wall(n, t, 'cold'))} | ${fmt(wall(n, t, 'warm'))} | ${fmt(stat(n, t, 'cold', (r) => r.user + r.sys))}/${fmt(stat(n, t, 'warm', (r) => r.user + r.sys))} | ` +
          `${fmt(Math.max(...rs.map((r) => r.maxrssKb)) / 1024, 0)} | ${fmt(Math.max(...rs.map((r) => r.treePssKb)) / 1024, 0)} | ` +
          `${fmt(stat(n, t, 'cold', (r) => r.targetsCpu), 1)}/${fmt(stat(n, t, 'warm', (r) => r.targetsCpu), 1)} | ${t.startsWith('floor') ? 'n/a (no checks)' : `${counts(lastC)} -> ${counts(lastW)}`} | ${state}${failed.length ? ` **FAILED: ${failed.join(', ')}**` : ''} | ${fmt(lastC?.load1, 1)}/${fmt(lastW?.load1, 1)} |`,
      );
    }
  }
  L.push('');
  L.push('## Ratios (same N, same time window)', '');
  L.push('| N | Ansible / orch cold | Ansible / orch warm | Mitogen / orch cold | Mitogen / orch warm | orch / floor-ssh cold, warm | orch / floor-ssh2 cold, warm | orch warm / cold |');
  L.push('|---|---|---|---|---|---|---|---|');
  for (const n of Ns) {
    const o = (p) => wall(n, 'orch', p);
    L.push(
      `| ${n} | ${times(wall(n, 'ansible', 'cold'), o('cold'))} | ${times(wall(n, 'ansible', 'warm'), o('warm'))} | ${times(wall(n, 'mitogen', 'cold'), o('cold'))} | ${times(wall(n, 'mitogen', 'warm'), o('warm'))} | ` +
        `${times(o('cold'), wall(n, 'floor-ssh', 'cold'))}, ${times(o('warm'), wall(n, 'floor-ssh', 'warm'))} | ${times(o('cold'), wall(n, 'floor-ssh2', 'cold'))}, ${times(o('warm'), wall(n, 'floor-ssh2', 'warm'))} | ${times(o('warm'), o('cold'))} |`,
    );
  }
  L.push('', '"Ansible / orch 35.0x" means orch took 1/35 of Ansible\'s time; "orch / floor 1.5x" means orch took 1.5 times the no-check floor.', '');
  L.push('## Targets (reported, not asserted)', '');
  L.push('| target | measured | verdict |', '|---|---|---|');
  const verdict = (ok) => (ok === null ? 'not measured' : ok ? 'met' : 'missed');
  if (SMALL_WL) {
    // engine issue 7 section 6: orch within 1.5x of the in-process ssh2 floor, >= 20x faster than Ansible
    for (const n of Ns) {
      for (const p of ['cold', 'warm']) {
        const o = wall(n, 'orch', p);
        const f = wall(n, 'floor-ssh2', p);
        const ok = Number.isFinite(o) && Number.isFinite(f) ? o / f <= 1.5 : null;
        L.push(`| orch ${p} within 1.5x of ${LABEL['floor-ssh2']} ${p} at ${n} hosts | ${ok === null ? '-' : `${(o / f).toFixed(2)}x (${fmt(o)} s vs ${fmt(f)} s)`} | ${verdict(ok)} |`);
      }
      for (const p of ['cold', 'warm']) {
        const a = wall(n, 'ansible', p);
        const o = wall(n, 'orch', p);
        const ok = Number.isFinite(a) && Number.isFinite(o) ? a / o >= 20 : null;
        L.push(`| orch ${p} >= 20x faster than Ansible at ${n} hosts | ${ok === null ? '- (Ansible not run)' : `${(a / o).toFixed(1)}x (${fmt(o)} s vs ${fmt(a)} s)`} | ${verdict(ok)} |`);
      }
      const rs = records.filter((r) => r.n === n && r.tool === 'orch');
      const peak = rs.length ? Math.max(...rs.map((r) => Math.max(r.maxrssKb, r.treePssKb))) / 1024 : NaN;
      if (Number.isFinite(peak)) L.push(`| (context, not a target) orch controller peak memory at ${n} hosts | ${peak.toFixed(0)} MB | - |`);
    }
  } else {
  for (const n of [5, 20]) {
    for (const [other, k] of [['ansible', 30], ['mitogen', 10]]) {
      const a = wall(n, other, 'warm');
      const o = wall(n, 'orch', 'warm');
      const ok = Number.isFinite(a) && Number.isFinite(o) ? a / o >= k : null;
      L.push(`| warm >= ${k}x faster than ${LABEL[other]} at ${n} hosts | ${ok === null ? '-' : `${(a / o).toFixed(1)}x (${fmt(o)} s vs ${fmt(a)} s)`} | ${verdict(ok)} |`);
    }
  }
  for (const n of Ns) {
    const a = wall(n, 'ansible', 'cold');
    const o = wall(n, 'orch', 'cold');
    const ok = Number.isFinite(a) && Number.isFinite(o) ? a / o >= 10 : null;
    L.push(`| cold >= 10x faster than Ansible at ${n} hosts | ${ok === null ? '-' : `${(a / o).toFixed(1)}x (${fmt(o)} s vs ${fmt(a)} s)`} | ${verdict(ok)} |`);
  }
  for (const p of ['cold', 'warm']) {
    const t5 = wall(5, 'orch', p);
    const t50 = wall(50, 'orch', p);
    const ok = Number.isFinite(t5) && Number.isFinite(t50) ? t50 <= 2 * t5 : null;
    L.push(`| orch ${p} at 50 hosts <= 2x its 5-host time | ${ok === null ? '-' : `${(t50 / t5).toFixed(2)}x (${fmt(t50)} s vs ${fmt(t5)} s)`} | ${verdict(ok)} |`);
  }
  for (const f of ['floor-ssh', 'floor-ssh2']) {
    const t5 = wall(5, f, 'cold');
    const t50 = wall(50, f, 'cold');
    if (Number.isFinite(t5) && Number.isFinite(t50))
      L.push(`| (context, not a target) ${LABEL[f]} at 50 hosts vs 5 hosts | ${(t50 / t5).toFixed(2)}x (${fmt(t50)} s vs ${fmt(t5)} s) | - |`);
  }
  {
    const rs = records.filter((r) => r.n === 50 && r.tool === 'orch');
    const peak = rs.length ? Math.max(...rs.map((r) => Math.max(r.maxrssKb, r.treePssKb))) / 1024 : NaN;
    L.push(`| orch controller peak RSS < 300 MB at 50 hosts | ${Number.isFinite(peak) ? `${peak.toFixed(0)} MB` : '-'} | ${verdict(Number.isFinite(peak) ? peak < 300 : null)} |`);
  }
  }
  const warmChanges = records.filter((r) => r.tool === 'orch' && r.phase === 'warm');
  const idem = warmChanges.length ? warmChanges.every((r) => r.code === 0 && r.summary.changedTotal === 0 && r.summary.failed === 0) : null;
  L.push(`| orch warm run changes nothing (checked, must hold) | ${warmChanges.map((r) => `N=${r.n}: changed ${r.summary.changedTotal}`).join(', ') || '-'} | ${idem === null ? 'not measured' : idem ? 'yes' : '**NO**'} |`);
  const shasOf = (n) => [...new Set(records.filter((r) => r.n === n).map((r) => r.stateSha))];
  const stateOk = Ns.every((n) => shasOf(n).length === 1 && /^[0-9a-f]{12}$/.test(shasOf(n)[0]));
  const toolsRan = (n) => tools.filter((t) => records.some((r) => r.n === n && r.tool === t && r.code === 0)).length;
  L.push(`| all tools leave bench-h01 in the same state (checked, must hold) | ${Ns.map((n) => `N=${n}: ${shasOf(n).join(' / ')} (${toolsRan(n)} of ${tools.length} tools ran)`).join(', ')} | ${stateOk ? 'yes' : '**NO**'} |`);
  L.push('');
  const prof = records.filter((r) => r.tool === 'orch' && r.profile);
  if (prof.length) {
    L.push('## orch profile (`--profile`: milliseconds summed over hosts; per host in parentheses)', '');
    for (const r of prof) L.push(`* N=${r.n} rep ${r.rep} ${r.phase} (${fmt(r.wall)} s wall): ${profileLine(r.profile, r.n)}`);
    L.push('');
  }
  L.push('## Notes', '');
  L.push(
    '* orch gathers the facts of all its operations in one round trip per host and applies all changes in a second one; hosts do not wait ' +
      'for each other between steps (Ansible\'s linear strategy does). orch reports its own counts (one per operation), see the table.',
    '* Ansible CPU excludes its ControlPersist master ssh processes (they detach from ansible-playbook), as in the baseline\'s run.sh.',
    '* "largest process RSS" is GNU time\'s %M (the largest single process of the tree); "process tree PSS" sums the proportional set ' +
      'size of every controller process alive at a sample (250 ms), so forked workers that share pages are not double counted.',
    '* Floors do the same writes as the workload with no checks at all (no facts, no diffs, no validation): the cost of just reaching N ' +
      'hosts and writing the files once. floor-ssh opens one OpenSSH connection per host; floor-ssh2 one ssh2 connection per host from one Node process.',
    '* The controller and every target share this machine\'s CPUs, and other work on the machine adds noise: the "load avg before" ' +
      'column is the 1-minute load average just before each run; it still contains the tail of the previous run (e.g. N systemd ' +
      'containers settling) and anything else running on the machine, so it is only a rough noise indicator. ' +
      'Compare tools within one run (same time window) rather than absolute seconds across runs.',
    ...(SMALL_WL
      ? [
          '* orch runs at most 50 hosts at once (`--forks` is capped at 50 in src/runner/run.ts); the floors open all N connections at once.',
          '* The floors run the same four tasks as one script per host with no checks; only the init command keeps its `creates` guard ' +
            '(the guard is the task), so a floor\'s warm run rewrites the user check, the log file\'s ownership and the config file.',
          '* State check: bench/fingerprint-small.sh on bench-h01 (the four paths and the orchbench passwd/group lines).',
        ]
      : [
          '* The simulated hosts\' image already has /etc/systemd/journald.conf.d (step 21 is `ok`, not `changed`, for every tool): Ansible ' +
            'reports changed=31 on a fresh host here instead of the baseline\'s 32.',
        ]),
    `* Raw rows: bench/results/${SMALL_WL ? 'results-small.tsv' : 'results.tsv'}; tool output and fingerprints: bench/results/logs/${meta.runId}/.`,
  );
  if (SMALL_WL) {
    writeFileSync(join(RESULTS, `N${Ns.join('_')}-small.md`), L.join('\n') + '\n');
  } else {
    writeFileSync(join(RESULTS, 'latest.md'), L.join('\n') + '\n');
    writeFileSync(join(RESULTS, 'time-vs-hosts.svg'), svg(Ns, tools));
  }
  return L.join('\n');
}

// ------------------------------------------------------------------ plot (hand-written SVG)
function svg(Ns, tools) {
  const W = 760;
  const H = 460;
  const m = { l: 70, r: 200, t: 40, b: 50 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const pts = [];
  for (const t of tools) for (const p of ['cold', 'warm']) for (const n of Ns) {
    const v = stat(n, t, p, (r) => r.wall);
    if (Number.isFinite(v)) pts.push({ t, p, n, v });
  }
  const vals = pts.map((x) => x.v);
  const lo = Math.pow(10, Math.floor(Math.log10(Math.max(0.01, Math.min(...vals, 1)))));
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...vals, 1))));
  const nMin = Math.min(...Ns);
  const nMax = Math.max(...Ns);
  const x = (n) => m.l + (nMax === nMin ? pw / 2 : ((n - nMin) / (nMax - nMin)) * pw);
  const y = (v) => m.t + ph - ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * ph;
  const color = { orch: '#d62728', ansible: '#1f77b4', mitogen: '#2ca02c', 'floor-ssh': '#7f7f7f', 'floor-ssh2': '#9467bd' };
  const o = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`);
  o.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  o.push(`<text x="${m.l}" y="22" font-size="15" font-weight="bold">Wall time vs host count (log scale): solid = cold, dashed = warm</text>`);
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    for (const k of [1, 2, 5]) {
      const v = d * k;
      if (v > hi * 1.0001) continue;
      o.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="${k === 1 ? '#ccc' : '#eee'}"/>`);
      o.push(`<text x="${m.l - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v >= 1 ? v : v.toFixed(2)} s</text>`);
    }
  }
  for (const n of Ns) {
    o.push(`<line x1="${x(n).toFixed(1)}" x2="${x(n).toFixed(1)}" y1="${m.t}" y2="${m.t + ph}" stroke="#eee"/>`);
    o.push(`<text x="${x(n).toFixed(1)}" y="${m.t + ph + 18}" text-anchor="middle">${n}</text>`);
  }
  o.push(`<text x="${m.l + pw / 2}" y="${H - 12}" text-anchor="middle">hosts</text>`);
  o.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  let ly = m.t + 10;
  for (const t of tools) {
    for (const p of ['cold', 'warm']) {
      const s = pts.filter((q) => q.t === t && q.p === p).sort((a, b) => a.n - b.n);
      if (!s.length) continue;
      const dash = p === 'warm' ? ' stroke-dasharray="6 4"' : '';
      if (s.length > 1) o.push(`<polyline fill="none" stroke="${color[t]}" stroke-width="2"${dash} points="${s.map((q) => `${x(q.n).toFixed(1)},${y(q.v).toFixed(1)}`).join(' ')}"/>`);
      for (const q of s) o.push(`<circle cx="${x(q.n).toFixed(1)}" cy="${y(q.v).toFixed(1)}" r="3.5" fill="${p === 'cold' ? color[t] : 'white'}" stroke="${color[t]}" stroke-width="2"><title>${LABEL[t]} ${p}, ${q.n} hosts: ${q.v.toFixed(2)} s</title></circle>`);
      o.push(`<line x1="${m.l + pw + 15}" x2="${m.l + pw + 45}" y1="${ly}" y2="${ly}" stroke="${color[t]}" stroke-width="2"${dash}/>`);
      o.push(`<text x="${m.l + pw + 52}" y="${ly + 4}">${LABEL[t]} ${p}</text>`);
      ly += 18;
    }
  }
  o.push('</svg>');
  return o.join('\n') + '\n';
}

// ------------------------------------------------------------------ main
/** --report RUN_ID: the records of that run, from results.tsv. */
function loadRecords(runId) {
  const [head, ...rows] = readFileSync(TSV, 'utf8').trim().split('\n');
  const cols = head.split('\t');
  let meta;
  for (const line of rows) {
    const r = Object.fromEntries(line.split('\t').map((v, i) => [cols[i], v]));
    if (r.run_id !== runId) continue;
    const num = (k) => (r[k] === undefined || r[k] === '-' || r[k] === '' ? NaN : Number(r[k]));
    const hosts = num('recap_hosts');
    const summary = {
      hosts,
      ok: r.ok,
      changed: r.changed,
      skipped: r.skipped,
      failed: num('failed_total'),
      unreachable: num('unreachable_total'),
      uniform: r.uniform === 'yes',
      changedTotal: Number.isFinite(num('changed_total')) ? num('changed_total') : r.uniform === 'yes' ? num('changed') * hosts : NaN,
    };
    const profile = r.profile && r.profile !== '-' ? Object.fromEntries(r.profile.split(',').map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)])) : null;
    records.push({
      tool: r.tool, n: num('N'), rep: num('rep'), phase: r.phase, code: num('rc'), wall: num('wall_s'), user: num('ctrl_user_s'), sys: num('ctrl_sys_s'),
      maxrssKb: num('maxrss_kb'), treePssKb: num('tree_pss_peak_kb'), targetsCpu: num('targets_cpu_s'), busyPct: num('machine_busy_pct'), load1: num('load1_before'),
      summary, profile, stateSha: r.state_sha, refSha: r.state_ref_sha === '-' ? null : r.state_ref_sha,
    });
    meta ??= { runId, command: '(re-rendered from results.tsv with --report)', date: r.date, layout: r.layout || 'sim' };
  }
  if (!records.length) die(`no rows of run ${runId} in ${TSV}`);
  return meta;
}

async function main() {
  if (args.report) {
    const meta = loadRecords(args.report);
    process.stdout.write(report(meta) + '\n');
    return;
  }
  preflight();
  build();
  mkdirSync(WORK, { recursive: true });
  mkdirSync(LOGS, { recursive: true });
  mkdirSync(CPBASE, { recursive: true });
  if (args.layout === 'baseline') {
    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'orch-bench', '-f', BASELINE_KEY]);
    chmodSync(`${BASELINE_KEY}.pub`, 0o644);
  }
  log(`run ${RUN_ID}: hosts ${HOSTS.join(',')}, reps ${REPS}, tools ${TOOLS.join(',')}; work dir ${WORK}`);
  await image();
  for (const n of HOSTS) {
    for (let rep = 1; rep <= REPS; rep++) {
      for (const tool of TOOLS) {
        if (interrupted) return;
        if (SKIP.has(`${tool}@${n}`)) {
          log(`N=${n} ${tool}: skipped (--skip ${tool}@${n})`);
          continue;
        }
        try {
          await runTool(tool, n, rep);
        } catch (e) {
          if (interrupted) return;
          log(`N=${n} ${tool} rep ${rep}: ${e.message}`);
          records.push({ tool, n, rep, phase: 'cold', code: 255, wall: NaN, user: NaN, sys: NaN, maxrssKb: NaN, treePssKb: NaN, targetsCpu: NaN, summary: summarise([], n), stateSha: 'err' });
        }
        report();
      }
    }
  }
  process.stdout.write(report() + '\n');
  const Ns = [...new Set(records.map((r) => r.n))].sort((a, b) => a - b);
  log(`wrote ${SMALL_WL ? join(RESULTS, `N${Ns.join('_')}-small.md`) : `${join(RESULTS, 'latest.md')}, ${join(RESULTS, 'time-vs-hosts.svg')}`}, appended ${TSV}`);
}

let exitCode = 0;
try {
  await main();
} catch (e) {
  log(`error: ${e.stack ?? e}`);
  exitCode = 1;
} finally {
  await cleanup();
}
process.exit(interrupted ? 130 : exitCode);
