/**
 * ops.nodePackage: a Node.js program installed at `dest` (package.json, package-lock.json, node_modules) from the
 * controller's npm bundle of a lock kept in the repository (npm-bundle.ts), pushed as one tar and verified by its
 * sha256; the host reaches no registry. It needs Node.js (the distribution's `nodejs`), not npm.
 *
 * Fact: the marker `<dest>/.orch-npm-bundle` (the lock's digest). Up to date: the marker is the lock's; nothing is
 * built, uploaded or run. Otherwise `prepare()` (the runner's prepareArtifacts, only for a change: `--check`
 * builds nothing) builds the bundle, the tar goes to /var/tmp, is checked, unpacked beside `dest`, marked, and
 * renamed into place, so `dest` is absent, the previous version, or complete.
 */
import { posix } from 'node:path';
import { ensureNpmBundle, npmLockDigest, type NpmBundle, type NpmBundleOptions, type NpmLock } from './npm-bundle.js';
import { checkPushedScript } from './pushed-file.js';
import { q } from './quote.js';
import { assertAbsolute } from './stat.js';
import type { Operation } from './types.js';

export const NPM_BUNDLE_MARKER = '.orch-npm-bundle';

export interface NodePackageOptions {
  /** install directory, e.g. /opt/jupyterhub/configurable-http-proxy */
  dest: string;
  /** the lock's texts (readNpmLock), for the digest the plan compares */
  lock: NpmLock;
  /** the lock directory on the controller: `prepare()` builds (once, cached) its bundle when a change needs it */
  lockDir: string;
  /** what the bundle is, for the reason line (e.g. `configurable-http-proxy 4.6.3`) */
  label: string;
  bundleOptions?: NpmBundleOptions;
  /** handlers restarted when the program changed */
  notify?: string[];
}

export type NodePackageOperation = Operation<string | null> & { prepare(): Promise<void> };

export function nodePackage(o: NodePackageOptions): NodePackageOperation {
  assertAbsolute(o.dest, 'nodePackage dest');
  if (o.dest === '/' || o.dest.endsWith('/')) throw new Error(`nodePackage dest must be a directory path without trailing slash, got ${o.dest}`);
  const digest = npmLockDigest(o.lock);
  const marker = posix.join(o.dest, NPM_BUNDLE_MARKER);
  const tar = `/var/tmp/.orch-npm-bundle-${digest.slice(0, 16)}.tar`;
  let bundle: NpmBundle | undefined;
  const op: NodePackageOperation = {
    kind: 'node-package',
    name: o.dest,
    fact: {
      key: `node-package:${o.dest}`,
      command: `if [ -f ${q(marker)} ]; then head -c 64 ${q(marker)}; fi`,
      parse: (stdout) => (/^[0-9a-f]{64}$/.test(stdout.trim()) ? stdout.trim() : null),
    },
    plan(found) {
      if (found === digest) return { status: 'ok', reason: `${o.label} installed (lock ${digest.slice(0, 12)})` };
      const reason = found === null ? `install ${o.label} (lock ${digest.slice(0, 12)})` : `replace lock ${found.slice(0, 12)} with ${o.label} (lock ${digest.slice(0, 12)})`;
      const d = q(o.dest);
      const next = q(`${o.dest}.orch-new`);
      const old = q(`${o.dest}.orch-old`);
      const script = [
        checkPushedScript(tar),
        `mkdir -p ${q(posix.dirname(o.dest))}`,
        // one command a line: under set -e a failure inside an && list (tar: a full disk) would not stop the script
        `rm -rf ${next} ${old}`,
        `mkdir -m 0755 ${next}`,
        `tar -xf ${q(tar)} -C ${next} --no-same-owner`,
        `rm -f ${q(tar)} ${q(`${tar}.sha256`)}`,
        `printf '%s\\n' ${q(digest)} >${q(`${o.dest}.orch-new/${NPM_BUNDLE_MARKER}`)}`,
        `if [ -e ${d} ]; then mv ${d} ${old}; fi`,
        `mv ${next} ${d}`,
        `rm -rf ${old}`,
      ].join('\n');
      return { status: 'change', reason, script };
    },
    async prepare() {
      if (!bundle) bundle = await ensureNpmBundle(o.lockDir, o.bundleOptions);
      if (bundle.digest !== digest) throw new Error(`nodePackage ${o.dest}: the lock in ${o.lockDir} changed since the plan (${bundle.digest.slice(0, 12)}, planned ${digest.slice(0, 12)})`);
    },
    uploads: () => {
      if (!bundle) throw new Error(`nodePackage ${o.dest}: the bundle is not built yet (await prepare() first)`);
      return [
        { local: bundle.tar, remote: tar, mode: 0o600 },
        { local: `${bundle.tar}.sha256`, remote: `${tar}.sha256`, mode: 0o600 },
      ];
    },
  };
  if (o.notify?.length) op.notify = o.notify;
  return op;
}
