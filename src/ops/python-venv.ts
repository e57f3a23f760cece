/**
 * ops.pythonVenv: a venv on the host with exactly the pins of a lock, installed from a controller-built wheelhouse
 * (see wheelhouse.ts) pushed as one tar and verified by its sha256; the host reaches no index.
 * Fact: the venv's `pip freeze --all` (absent venv: everything to install). Up to date: every pin installed at its
 * version, and nothing is uploaded or run. Otherwise pip installs the lock with --no-deps: packages already at the
 * locked version are left alone, so a bump installs only what changed. The lock must already be on the host at
 * `lock` (an ops.file of the same text, before this op).
 */
import { lockDrift, parseFreeze, parseLock, pipFreezeCommand, pipInstallCommand, venvCreateCommand } from './python-lock.js';
import { q } from './quote.js';
import type { Operation } from './types.js';
import type { Wheelhouse } from './wheelhouse.js';

export interface PythonVenvOptions {
  /** venv directory, e.g. /opt/airflow/venv */
  venv: string;
  /** the lock's path on the host */
  lock: string;
  /** the lock's text (the same as the file at `lock`) */
  lockText: string;
  /** the controller's wheelhouse of this lock (await ensureWheelhouse first) */
  wheelhouse: Wheelhouse;
  /** where the wheels are unpacked on the host; default `<venv>.wheels` */
  wheelhouseDir?: string;
  /** interpreter creating the venv; default python3 */
  python?: string;
  /** run the install as this user (it must own the venv's parent); default root */
  user?: string;
}

export function pythonVenv(o: PythonVenvOptions): Operation<Map<string, string> | null> {
  const packages = parseLock(o.lockText);
  const dir = o.wheelhouseDir ?? `${o.venv}.wheels`;
  const tar = `${dir}.tar`;
  return {
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
        return { status: 'ok', reason: `${packages.length} pins installed (lock ${o.wheelhouse.digest.slice(0, 12)})` };
      }
      const shown = drift.toInstall.slice(0, 5).map((p) => `${p.name}==${p.version}`).join(', ');
      const more = drift.toInstall.length > 5 ? ` and ${drift.toInstall.length - 5} more` : '';
      const reason = freeze === null
        ? `no venv: create it and install ${packages.length} pins`
        : `install ${drift.toInstall.length} of ${packages.length} pins: ${shown}${more}`;
      const create = venvCreateCommand({ venv: o.venv, lock: o.lock, python: o.python });
      const install = pipInstallCommand({ venv: o.venv, lock: o.lock, wheelhouse: dir }, false);
      const asUser = (cmd: string) => (o.user === undefined ? cmd : `runuser -u ${q(o.user)} -- sh -c ${q(cmd)}`);
      const script = [
        `printf '%s  %s\\n' ${q(o.wheelhouse.sha256)} ${q(tar)} | sha256sum -c --quiet`,
        `rm -rf ${q(dir)} && mkdir -p ${q(dir)} && tar -xf ${q(tar)} -C ${q(dir)} && rm -f ${q(tar)}`,
        o.user === undefined ? '' : `chown -R ${q(o.user)} ${q(dir)}`,
        `${create.unless} || ${asUser(create.cmd)}`,
        asUser(install),
        `rm -rf ${q(dir)}`,
      ].filter((line) => line !== '').join('\n');
      return { status: 'change', reason, script };
    },
    uploads: () => [{ local: o.wheelhouse.tar, remote: tar, mode: 0o600 }],
  };
}
