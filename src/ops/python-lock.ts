/**
 * Python lock files and the commands of a pinned venv install (pure: no I/O).
 *
 * A lock is a pip requirements file of exact pins, one `name==version` a line, optionally followed by
 * `--hash=sha256:<hex>` options (pip's hash-checking mode). Comments and blank lines are ignored; anything
 * else (ranges, URLs, editable installs, nested -r) is refused, so that what is installed is exactly the lock.
 *
 * Up-to-date check: `pip freeze` of the venv, normalised, compared with the lock's pins. A rerun with the same
 * lock finds nothing to do; a version bump lists only the packages that differ (pip reinstalls only those).
 */
import { createHash } from 'node:crypto';
import { q } from './quote.js';

export interface LockedPackage {
  /** PEP 503 normalised name (lowercase, runs of -_. collapsed to -) */
  name: string;
  version: string;
  /** sha256 hex digests, may be empty */
  hashes: string[];
}

/** PEP 503 name normalisation. */
export function normaliseName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

const PIN = /^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([A-Za-z0-9.!+_-]+)$/;
const HASH = /^--hash=sha256:([0-9a-f]{64})$/;

/** Parses a lock file; throws with the line number on anything that is not an exact pin. */
export function parseLock(text: string): LockedPackage[] {
  // join backslash continuations as pip does
  const logical: { line: string; no: number }[] = [];
  let buffer = '';
  let start = 0;
  text.split('\n').forEach((raw, index) => {
    const stripped = raw.replace(/(^|\s)#.*$/, '').trim();
    if (buffer === '') start = index + 1;
    if (stripped.endsWith('\\')) {
      buffer += stripped.slice(0, -1) + ' ';
      return;
    }
    buffer += stripped;
    if (buffer.trim() !== '') logical.push({ line: buffer.trim(), no: start });
    buffer = '';
  });
  if (buffer.trim() !== '') logical.push({ line: buffer.trim(), no: start });

  const seen = new Map<string, number>();
  const packages: LockedPackage[] = [];
  for (const { line, no } of logical) {
    const [spec, ...options] = line.split(/\s+/);
    const pin = PIN.exec(spec);
    if (!pin) throw new Error(`lock line ${no}: not an exact pin name==version: ${spec}`);
    const hashes: string[] = [];
    for (const option of options) {
      const hash = HASH.exec(option);
      if (!hash) throw new Error(`lock line ${no}: unsupported option ${option}`);
      hashes.push(hash[1]);
    }
    const name = normaliseName(pin[1]);
    const previous = seen.get(name);
    if (previous !== undefined) throw new Error(`lock line ${no}: ${name} already pinned on line ${previous}`);
    seen.set(name, no);
    packages.push({ name, version: pin[3], hashes });
  }
  return packages;
}

/** Digest of the pins (names and versions, sorted): the same set of pins gives the same digest. */
export function lockDigest(packages: readonly LockedPackage[]): string {
  const text = packages.map((p) => `${p.name}==${p.version}`).sort().join('\n');
  return createHash('sha256').update(text).digest('hex');
}

/** Parses `pip freeze` output into name -> version (normalised names; editable/URL lines are kept as `?`). */
export function parseFreeze(text: string): Map<string, string> {
  const result = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const pin = /^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$/.exec(line);
    if (pin) result.set(normaliseName(pin[1]), pin[2]);
    else {
      const at = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*@/.exec(line);
      if (at) result.set(normaliseName(at[1]), '?');
    }
  }
  return result;
}

export interface LockDrift {
  /** locked packages absent or at another version in the venv */
  toInstall: LockedPackage[];
  /** installed packages the lock does not name (pip, setuptools, wheel are never counted) */
  extra: string[];
}

const TOOLING = new Set(['pip', 'setuptools', 'wheel']);

/** What differs between a venv's `pip freeze` and a lock. Empty lists: up to date. */
export function lockDrift(packages: readonly LockedPackage[], freeze: ReadonlyMap<string, string>): LockDrift {
  const locked = new Set(packages.map((p) => p.name));
  return {
    toInstall: packages.filter((p) => freeze.get(p.name) !== p.version),
    extra: [...freeze.keys()].filter((name) => !locked.has(name) && !TOOLING.has(name)).sort(),
  };
}

export interface VenvPaths {
  /** the venv directory, e.g. /opt/airflow/venv */
  venv: string;
  /** the lock file on the host */
  lock: string;
  /** directory of wheels on the host (no index is used); absent: the site index */
  wheelhouse?: string;
  /** a site index URL (used only when there is no wheelhouse) */
  indexUrl?: string;
  /** the python interpreter creating the venv; default python3 */
  python?: string;
}

/** `python3 -m venv` unless the venv's interpreter already exists. */
export function venvCreateCommand(paths: VenvPaths): { cmd: string; unless: string } {
  const python = paths.python ?? 'python3';
  return {
    cmd: `${q(python)} -m venv ${q(paths.venv)}`,
    unless: `test -x ${q(`${paths.venv}/bin/python`)}`,
  };
}

/** The pinned install: from the wheelhouse with no index, or from the named index; hashes enforced when the lock has them. */
export function pipInstallCommand(paths: VenvPaths, hashed: boolean): string {
  if (paths.wheelhouse === undefined && paths.indexUrl === undefined) {
    throw new Error('pip install needs a wheelhouse or an index URL');
  }
  const source = paths.wheelhouse !== undefined
    ? `--no-index --find-links ${q(paths.wheelhouse)}`
    : `--index-url ${q(paths.indexUrl as string)}`;
  const pip = q(`${paths.venv}/bin/pip`);
  return [
    `PIP_DISABLE_PIP_VERSION_CHECK=1 ${pip} install --no-input --no-deps`,
    source,
    hashed ? '--require-hashes' : '',
    `-r ${q(paths.lock)}`,
  ].filter((part) => part !== '').join(' ');
}

/** The freeze the up-to-date check compares (exits non-zero when the venv does not exist). */
export function pipFreezeCommand(venv: string): string {
  return `PIP_DISABLE_PIP_VERSION_CHECK=1 ${q(`${venv}/bin/pip`)} freeze --all`;
}
