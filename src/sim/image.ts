/**
 * The simulated host image: Debian bookworm with systemd + sshd, built with debootstrap (no registry needed)
 * and imported into Docker as `orch-testhost:<variant>-<12 hex recipe hash>`.
 *
 * - The tag depends only on the recipe (packages, customisation script, image config), so an existing tag is
 *   reused and a changed recipe yields a new tag (older tags of the same variant are removed when unused).
 * - The debootstrap root filesystem is cached as a tarball under `~/.cache/orch/sim/` ($XDG_CACHE_HOME honoured),
 *   so re-creating the Docker image (e.g. after `docker system prune -a`) takes seconds.
 * - No SSH key is baked in: `authorized_keys` is injected per container; host keys are generated at first boot
 *   (every container gets its own).
 * - Needs root for debootstrap/chroot (uses `sudo -n` when not root).
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile, readFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { docker, have, noLog, run, sleep, type Log } from './docker.js';

export type SimVariant = 'base' | 'python';

export const IMAGE_REPO = 'orch-testhost';

/** Bump when the build procedure changes in a way the recipe text below does not capture. */
const RECIPE_VERSION = 1;
const SUITE = 'bookworm';
const MIRROR = 'http://deb.debian.org/debian';

const BASE_PACKAGES = [
  'openssh-server',
  'systemd',
  'systemd-sysv',
  'dbus',
  'sudo',
  'iproute2',
  'procps',
  'ca-certificates',
  'curl',
  'netbase',
];
const VARIANT_PACKAGES: Record<SimVariant, string[]> = { base: [], python: ['python3'] };

/** Units that are useless (or fail) in a container. Masking the ask-password paths also saves inotify instances. */
const MASKED_UNITS = [
  'systemd-ask-password-console.path',
  'systemd-ask-password-wall.path',
  'getty@.service',
  'serial-getty@.service',
  'console-getty.service',
  'getty.target',
  'getty-static.service',
  'systemd-udevd.service',
  'systemd-udevd-control.socket',
  'systemd-udevd-kernel.socket',
  'systemd-udev-trigger.service',
  'systemd-udev-settle.service',
  'systemd-hwdb-update.service',
  'apt-daily.timer',
  'apt-daily-upgrade.timer',
  'apt-daily.service',
  'apt-daily-upgrade.service',
  'dpkg-db-backup.timer',
  'e2scrub_all.timer',
  'e2scrub_reap.service',
  'fstrim.timer',
  'sys-kernel-debug.mount',
  'sys-kernel-tracing.mount',
  'sys-kernel-config.mount',
  'sys-fs-fuse-connections.mount',
  'dev-hugepages.mount',
  'dev-mqueue.mount',
  'proc-sys-fs-binfmt_misc.automount',
  'proc-sys-fs-binfmt_misc.mount',
  'systemd-binfmt.service',
  'systemd-modules-load.service',
  'kmod-static-nodes.service',
  'systemd-remount-fs.service',
  'systemd-firstboot.service',
  'systemd-journald-audit.socket',
  'systemd-pstore.service',
  'systemd-machine-id-commit.service',
];

/** Runs inside the chroot (sh) after debootstrap. */
function customizeScript(): string {
  return `set -eu
export DEBIAN_FRONTEND=noninteractive LC_ALL=C
systemctl enable ssh.service
systemctl set-default multi-user.target
for u in ${MASKED_UNITS.join(' ')}; do ln -sf /dev/null "/etc/systemd/system/$u"; done

# host keys: none in the image, generated at first boot (each container has its own)
rm -f /etc/ssh/ssh_host_*
cat > /etc/systemd/system/orch-ssh-hostkeys.service <<'EOF'
[Unit]
Description=Generate SSH host keys
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=multi-user.target ssh.service
EOF
ln -sf /etc/systemd/system/orch-ssh-hostkeys.service /etc/systemd/system/multi-user.target.wants/orch-ssh-hostkeys.service
mkdir -p /etc/systemd/system/ssh.service.wants
ln -sf /etc/systemd/system/orch-ssh-hostkeys.service /etc/systemd/system/ssh.service.wants/orch-ssh-hostkeys.service

cat > /etc/ssh/sshd_config.d/orch-sim.conf <<'EOF'
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
MaxStartups 50:30:100
EOF

# root: no usable password, login by key only (authorized_keys injected per container)
usermod -p '*' root
mkdir -p /root/.ssh && chmod 700 /root/.ssh

mkdir -p /etc/systemd/journald.conf.d
cat > /etc/systemd/journald.conf.d/orch-sim.conf <<'EOF'
[Journal]
Storage=volatile
RuntimeMaxUse=32M
EOF

cat > /etc/apt/sources.list <<'EOF'
deb http://deb.debian.org/debian ${SUITE} main
deb http://deb.debian.org/debian ${SUITE}-updates main
deb http://deb.debian.org/debian-security ${SUITE}-security main
EOF

# smaller image, and faster package installs later on
cat > /etc/dpkg/dpkg.cfg.d/01-orch-nodoc <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
find /usr/share/doc -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
rm -rf /usr/share/man/* /usr/share/info/* /usr/share/locale/* /usr/share/lintian
apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/*.log /var/log/apt/* /var/cache/debconf/*-old /var/lib/dpkg/*-old

# per-container identity
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id /etc/hostname /etc/resolv.conf
: > /etc/motd
`;
}

function imageChanges(hash: string): string[] {
  return [
    'ENV container=docker',
    'CMD ["/lib/systemd/systemd"]',
    `LABEL orch.testhost.recipe=${hash}`,
  ];
}

function recipe(variant: SimVariant) {
  const packages = [...BASE_PACKAGES, ...VARIANT_PACKAGES[variant]];
  const sha = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 12);
  // the root filesystem (cached tarball) and the image (tag) have their own hashes: changing only the image
  // config re-imports the cached tarball without running debootstrap again
  const rootfsHash = sha(JSON.stringify({ version: RECIPE_VERSION, suite: SUITE, mirror: MIRROR, packages, customize: customizeScript() }));
  const hash = sha(JSON.stringify({ rootfsHash, changes: imageChanges('') }));
  return { variant, packages, rootfsHash, hash, tag: `${IMAGE_REPO}:${variant}-${hash}` };
}

/** The tag `ensureImage` would build/return for this variant (no side effects). */
export function imageTag(variant: SimVariant = 'base'): string {
  return recipe(variant).tag;
}

export function cacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'orch', 'sim');
}

/** Root filesystem build: debootstrap + customisation in a chroot, then a tarball. Argument: $1 rootfs dir, $2 out. */
const BUILD_SCRIPT = `set -eu
ROOT="$1"; OUT="$2"; PKGS="$3"; SUITE="$4"; MIRROR="$5"
cleanup() {
  # unmount anything debootstrap left mounted, deepest first, then remove the tree (never across filesystems)
  for m in $(awk -v r="$ROOT" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r); do umount -l "$m" || true; done
  if ! awk -v r="$ROOT" 'index($2, r) == 1 { found = 1 } END { exit !found }' /proc/mounts; then
    rm -rf --one-file-system "$ROOT"
  fi
}
trap cleanup EXIT
debootstrap --variant=minbase --include="$PKGS" "$SUITE" "$ROOT" "$MIRROR"
chroot "$ROOT" /bin/sh -s < "$ROOT.customize.sh"
rm -f "$ROOT.customize.sh"
for m in $(awk -v r="$ROOT" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r); do umount -l "$m" || true; done
rm -rf "$ROOT/dev/"* "$ROOT/proc/"* "$ROOT/sys/"* "$ROOT/run/"* "$ROOT/tmp/"* "$ROOT/var/tmp/"* "$ROOT/debootstrap"
tar -C "$ROOT" --numeric-owner --xattrs -cf - . | gzip -1 > "$OUT"
`;

async function imageExists(tag: string): Promise<boolean> {
  try {
    await docker().getImage(tag).inspect();
    return true;
  } catch {
    return false;
  }
}

/** Cross-process lock (mkdir is atomic); a lock whose owner died is taken over. */
async function withLock<T>(dir: string, fn: () => Promise<T>, log: Log): Promise<T> {
  const lock = join(dir, `.lock`);
  const deadline = Date.now() + 30 * 60_000;
  let told = false;
  for (;;) {
    try {
      await mkdir(lock);
      await writeFile(join(lock, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(await readFile(join(lock, 'pid'), 'utf8').catch(() => '0'));
      let alive = false;
      if (pid > 0) {
        try {
          process.kill(pid, 0);
          alive = true;
        } catch {
          alive = false;
        }
      }
      if (!alive) {
        // no pid yet may mean "just created": give it a moment before stealing
        const st = await stat(lock).catch(() => undefined);
        if (pid > 0 || !st || Date.now() - st.mtimeMs > 5_000) {
          await rm(lock, { recursive: true, force: true });
          continue;
        }
      }
      if (!told) {
        log(`waiting for another orch process (pid ${pid}) building the test-host image ...`);
        told = true;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the image build lock ${lock}`);
      await sleep(1000);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

const inProcess = new Map<SimVariant, Promise<string>>();

/**
 * Make sure the test-host image exists and return its tag. Builds it with debootstrap (about a minute) when
 * neither the image nor the cached root filesystem tarball exists.
 */
export function ensureImage(opts: { variant?: SimVariant; log?: Log } = {}): Promise<string> {
  const variant = opts.variant ?? 'base';
  let p = inProcess.get(variant);
  if (!p) {
    p = doEnsureImage(variant, opts.log ?? noLog);
    inProcess.set(variant, p);
    p.catch(() => inProcess.delete(variant));
  }
  return p;
}

async function doEnsureImage(variant: SimVariant, log: Log): Promise<string> {
  const r = recipe(variant);
  if (await imageExists(r.tag)) return r.tag;
  const dir = cacheDir();
  await mkdir(dir, { recursive: true });
  return withLock(
    dir,
    async () => {
      if (await imageExists(r.tag)) return r.tag;
      const tarball = join(dir, `rootfs-${variant}-${r.rootfsHash}.tar.gz`);
      const t0 = Date.now();
      if (!existsSync(tarball)) {
        await buildRootfs(r.packages, tarball, log);
        await pruneTarballs(dir, variant, tarball);
      } else {
        log(`using cached root filesystem ${tarball}`);
      }
      log(`importing ${tarball} as ${r.tag} ...`);
      await importTarball(tarball, r.tag, r.hash);
      await pruneImages(variant, r.tag, log);
      log(`image ${r.tag} ready (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      return r.tag;
    },
    log,
  );
}

async function buildRootfs(packages: string[], tarball: string, log: Log): Promise<void> {
  const isRoot = process.getuid?.() === 0;
  if (!(await have('debootstrap')) && !existsSync('/usr/sbin/debootstrap')) {
    throw new Error(
      'debootstrap is not installed; it is needed once to build the simulated-host image. ' +
        'Run `bash scripts/setup-host.sh` (or `apt-get install debootstrap`).',
    );
  }
  const work = join(existsSync('/var/tmp') ? '/var/tmp' : tmpdir(), `orch-rootfs-${process.pid}-${Date.now()}`);
  const partial = `${tarball}.partial-${process.pid}`;
  await writeFile(`${work}.customize.sh`, customizeScript());
  const args = ['-c', BUILD_SCRIPT, 'build-rootfs', work, partial, packages.join(','), SUITE, MIRROR];
  const env = { ...process.env, PATH: `/usr/local/sbin:/usr/sbin:/sbin:${process.env.PATH ?? '/usr/bin:/bin'}` };
  log(`building the test-host root filesystem with debootstrap (${SUITE}, ${packages.length} packages, ~1 min) ...`);
  const t0 = Date.now();
  try {
    if (isRoot) {
      await run('bash', args, { env, timeoutMs: 20 * 60_000 });
    } else {
      if (!(await have('sudo'))) {
        throw new Error('building the test-host image needs root (debootstrap, chroot): run as root or install sudo');
      }
      await run('sudo', ['-n', 'env', `PATH=${env.PATH}`, 'bash', ...args], { timeoutMs: 20 * 60_000 }).catch((e) => {
        throw new Error(
          `building the test-host image needs root (debootstrap, chroot) and \`sudo -n\` failed; ` +
            `run once as root: \`node -e "import('./dist/src/sim/image.js').then(m => m.ensureImage({log: console.log}))"\`\n${(e as Error).message}`,
        );
      });
    }
    await rename(partial, tarball);
  } catch (e) {
    await rm(partial, { force: true }).catch(() => {});
    throw e;
  } finally {
    await rm(`${work}.customize.sh`, { force: true }).catch(() => {});
  }
  const size = (await stat(tarball)).size;
  log(`root filesystem built in ${((Date.now() - t0) / 1000).toFixed(1)} s (${(size / 1e6).toFixed(0)} MB compressed)`);
}

async function importTarball(tarball: string, tag: string, hash: string): Promise<void> {
  const [repo, t] = tag.split(':');
  const stream = await docker().importImage(createReadStream(tarball), {
    repo,
    tag: t,
    changes: imageChanges(hash),
  } as object);
  await new Promise<void>((resolve, reject) => {
    docker().modem.followProgress(
      stream,
      (err: Error | null, output: Array<{ error?: string }>) => {
        if (err) return reject(err);
        const bad = output.find((o) => o.error);
        if (bad) return reject(new Error(`docker import failed: ${bad.error}`));
        resolve();
      },
    );
  });
  if (!(await imageExists(tag))) throw new Error(`docker import did not produce ${tag}`);
}

async function pruneTarballs(dir: string, variant: SimVariant, keep: string): Promise<void> {
  for (const f of await readdir(dir)) {
    const p = join(dir, f);
    if (p !== keep && f.startsWith(`rootfs-${variant}-`)) await rm(p, { force: true }).catch(() => {});
  }
}

/** Remove older tags of the same variant (ignored when a container still uses them). */
async function pruneImages(variant: SimVariant, keep: string, log: Log): Promise<void> {
  const images = await docker().listImages({ filters: JSON.stringify({ reference: [`${IMAGE_REPO}:${variant}-*`] }) });
  for (const img of images) {
    for (const t of img.RepoTags ?? []) {
      if (t === keep || !t.startsWith(`${IMAGE_REPO}:${variant}-`)) continue;
      try {
        await docker().getImage(t).remove();
        log(`removed outdated image ${t}`);
      } catch {
        /* still in use */
      }
    }
  }
}
