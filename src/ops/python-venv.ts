/**
 * ops.pythonVenv: a venv on the host with exactly the pins of a lock, installed from a controller-built wheelhouse
 * (see wheelhouse.ts) pushed as one tar and verified by its sha256; the host reaches no index.
 * Fact: the venv's `pip freeze --all` (absent venv: everything to install). Up to date: every pin installed at its
 * version, and nothing is built, uploaded or run. Otherwise pip installs the lock's pins with --no-deps: packages
 * already at the locked version are left alone, so a bump installs only what changed. The lock must already be on
 * the host at `lock` (an ops.file of the same text, before this op), for the operator to read.
 *
 * The wheelhouse is either given (`wheelhouse`, already built) or built lazily from `lockFile` on the controller by
 * `prepare()`, which the runner calls (prepareArtifacts) only when the plan is a change: a converged host, and
 * `--check`, build nothing. The pushed tar is checked against the sha256 pushed beside it.
 *
 * pip installs `name==version` lines (written by the script from the lock's pins), not the lock itself: the lock's
 * hashes are the files on PyPI, checked on the controller when the wheelhouse is built, and a wheel built there
 * from an sdist (python-nvd3) has another hash, which pip's hash-checking mode (on as soon as one line has
 * --hash) would refuse.
 */
import { lockDigest, lockDrift, parseFreeze, parseLock, pipFreezeCommand, pipInstallCommand, venvCreateCommand } from './python-lock.js';
import { checkPushedScript } from './pushed-file.js';
import { q } from './quote.js';
import type { Operation } from './types.js';
import { ensureWheelhouse, type Wheelhouse, type WheelhouseOptions } from './wheelhouse.js';

export interface PythonVenvOptions {
  /** venv directory, e.g. /opt/airflow/venv */
  venv: string;
  /** the lock's path on the host */
  lock: string;
  /** the lock's text (the same as the file at `lock`) */
  lockText: string;
  /** the controller's wheelhouse of this lock, already built (ensureWheelhouse) ... */
  wheelhouse?: Wheelhouse;
  /** ... or the lock's path on the controller: `prepare()` builds (once, cached) the wheelhouse when a change needs it */
  lockFile?: string;
  /** how to build it (controller's python, cache dir, site index) */
  wheelhouseOptions?: WheelhouseOptions;
  /** where the wheels are unpacked on the host; default `<venv>.wheels` */
  wheelhouseDir?: string;
  /** interpreter creating the venv; default python3 */
  python?: string;
  /** run the install as this user (it must own the venv's parent); default root */
  user?: string;
  /** handlers restarted when the venv changed (the services running from it) */
  notify?: string[];
}

export type PythonVenvOperation = Operation<Map<string, string> | null> & { prepare(): Promise<void> };

export function pythonVenv(o: PythonVenvOptions): PythonVenvOperation {
  if ((o.wheelhouse === undefined) === (o.lockFile === undefined)) throw new Error(`pythonVenv ${o.venv}: give exactly one of wheelhouse and lockFile`);
  const packages = parseLock(o.lockText);
  const digest = lockDigest(packages);
  if (o.wheelhouse && o.wheelhouse.digest !== digest) throw new Error(`pythonVenv ${o.venv}: the wheelhouse (pins ${o.wheelhouse.digest.slice(0, 12)}) is not the lock's (${digest.slice(0, 12)})`);
  let wheelhouse: Wheelhouse | undefined = o.wheelhouse;
  const dir = o.wheelhouseDir ?? `${o.venv}.wheels`;
  // pushed before the apply script runs, so into a directory that exists then (the venv's parent may not yet)
  const tar = `/var/tmp/.orch-wheelhouse-${digest.slice(0, 16)}.tar`;
  const pins = `${dir}/pins.txt`;
  const op: PythonVenvOperation = {
    kind: 'python-venv',
    name: o.venv,
    fact: {
      key: `python-venv:${o.venv}`,
      command: pipFreezeCommand(o.venv),
      parse: (stdout, exitCode) => (exitCode === 0 ? parseFreeze(stdout) : null),
    },
    plan(freeze) {
      const drift = lockDrift(packages, freeze ?? new Map());
      if (freeze !== null && drift.toInstall.length === 0) {
        return { status: 'ok', reason: `${packages.length} pins installed (lock ${digest.slice(0, 12)})` };
      }
      const shown = drift.toInstall.slice(0, 5).map((p) => `${p.name}==${p.version}`).join(', ');
      const more = drift.toInstall.length > 5 ? ` and ${drift.toInstall.length - 5} more` : '';
      const reason = freeze === null
        ? `no venv: create it and install ${packages.length} pins`
        : `install ${drift.toInstall.length} of ${packages.length} pins: ${shown}${more}`;
      const create = venvCreateCommand({ venv: o.venv, lock: o.lock, python: o.python });
      const install = pipInstallCommand({ venv: o.venv, lock: pins, wheelhouse: dir }, false);
      const asUser = (cmd: string) => (o.user === undefined ? cmd : `runuser -u ${q(o.user)} -- sh -c ${q(cmd)}`);
      const script = [
        checkPushedScript(tar),
        `rm -rf ${q(dir)} && mkdir -p ${q(dir)} && tar -xf ${q(tar)} -C ${q(dir)} && rm -f ${q(tar)} ${q(`${tar}.sha256`)}`,
        `printf '%s\\n' ${packages.map((p) => q(`${p.name}==${p.version}`)).join(' ')} >${q(pins)}`,
        o.user === undefined ? '' : `chown -R ${q(o.user)} ${q(dir)}`,
        `${create.unless} || ${asUser(create.cmd)}`,
        asUser(install),
        `rm -rf ${q(dir)}`,
      ].filter((line) => line !== '').join('\n');
      return { status: 'change', reason, script };
    },
    async prepare() {
      if (!wheelhouse) wheelhouse = await ensureWheelhouse(o.lockFile!, o.wheelhouseOptions);
      if (wheelhouse.digest !== digest) throw new Error(`pythonVenv ${o.venv}: ${o.lockFile} changed since the plan (pins ${wheelhouse.digest.slice(0, 12)}, planned ${digest.slice(0, 12)})`);
    },
    uploads: () => {
      if (!wheelhouse) throw new Error(`pythonVenv ${o.venv}: the wheelhouse is not built yet (await prepare() first)`);
      return [
        { local: wheelhouse.tar, remote: tar, mode: 0o600 },
        { local: `${wheelhouse.tar}.sha256`, remote: `${tar}.sha256`, mode: 0o600 },
      ];
    },
  };
  if (o.notify?.length) op.notify = o.notify;
  return op;
}
