/**
 * ops.nodePackage and the controller's npm bundle (npm-bundle.ts): the plan against the host's marker, the change
 * script run for real with sh in a temp directory (the pushed tar and its .sha256 in place of the /var/tmp upload
 * paths): installed atomically, marked, an older install replaced, a tar that does not match its sha256 or does not
 * unpack refused with the old install left as it was; the lock checks and digest; and one real `npm ci` of the
 * jupyterhub role's configurable-http-proxy lock against the npm registry (network), then a cache hit.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { proxyLockDir } from '../../roles/jupyterhub/render.js';
import { NPM_BUNDLE_MARKER } from '../../src/ops/node-package.js';
import { checkNpmLock, ensureNpmBundle, npmLockDigest, ops, prepareArtifacts, readNpmLock, type NpmLock } from '../../src/ops/index.js';
import type { Plan } from '../../src/ops/types.js';
import { apply, gather, tmp } from './ops-harness.js';

const MANIFEST = '{ "name": "x", "private": true, "dependencies": { "left-pad": "1.3.0" } }\n';
const lockOf = (packages: Record<string, unknown>, lockfileVersion: unknown = 3) => JSON.stringify({ name: 'x', lockfileVersion, requires: true, packages: { '': { name: 'x' }, ...packages } });
const LEFT_PAD = { version: '1.3.0', resolved: 'https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz', integrity: 'sha512-XI5MPzVNApjAyhQzphX8BkmKsKUxD4LdyK24iZeQEQ3ovTo9L9Ws8Qp6NldOnEoA/bNyEe7bkSMk/ZtW9k6xXw==' };
const LOCK: NpmLock = { manifest: MANIFEST, lock: lockOf({ 'node_modules/left-pad': LEFT_PAD }) };
const DIGEST = npmLockDigest(LOCK);
const UPLOAD = `/var/tmp/.orch-npm-bundle-${DIGEST.slice(0, 16)}.tar`;

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const change = (p: Plan) => {
  if (p.status !== 'change') throw new Error(`expected a change, got ${p.status}: ${p.reason}`);
  return p;
};

/** a host in a temp dir: dest under it, the tar and its .sha256 where the script expects the uploads */
function host(files: Record<string, string> = { 'node_modules/left-pad/index.js': 'module.exports = 1;\n', 'package.json': MANIFEST }) {
  const root = tmp('orch-node-package-');
  const dest = join(root, 'opt', 'app', 'left-pad');
  const op = ops.nodePackage({ dest, lock: LOCK, lockDir: join(root, 'lock'), label: 'left-pad 1.3.0', notify: ['app'] });
  const src = join(root, 'src');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(src, path, '..'), { recursive: true });
    writeFileSync(join(src, path), text);
  }
  const tar = join(root, 'upload.tar');
  /** the controller's push: the tar and its sha256 (`good: false`: a sha256 that is not the tar's) */
  const push = (o: { good?: boolean; raw?: Buffer } = {}) => {
    if (o.raw) writeFileSync(tar, o.raw);
    else expect(spawnSync('tar', ['-cf', tar, '-C', src, ...Object.keys(files).map((p) => p.split('/')[0]).filter((p, i, a) => a.indexOf(p) === i)]).status).toBe(0);
    writeFileSync(`${tar}.sha256`, `${o.good === false ? 'e'.repeat(64) : sha256(readFileSync(tar))}\n`);
  };
  const run = (p: Plan) => apply({ ...change(p), script: change(p).script.split(UPLOAD).join(tar) });
  return { root, dest, op, tar, push, run, marker: join(dest, NPM_BUNDLE_MARKER) };
}

describe('ops.nodePackage: plan', () => {
  it('fact: the marker (the lock digest) or null; ok when it is the lock digest, a change otherwise', () => {
    const h = host();
    expect(h.op.kind).toBe('node-package');
    expect(h.op.name).toBe(h.dest);
    expect(h.op.notify).toEqual(['app']);
    expect(gather(h.op.fact!)).toBeNull();
    mkdirSync(h.dest, { recursive: true });
    writeFileSync(h.marker, `${DIGEST}\n`);
    expect(gather(h.op.fact!)).toBe(DIGEST);
    writeFileSync(h.marker, 'garbage\n');
    expect(gather(h.op.fact!)).toBeNull();

    expect(h.op.plan(DIGEST)).toEqual({ status: 'ok', reason: `left-pad 1.3.0 installed (lock ${DIGEST.slice(0, 12)})` });
    expect(change(h.op.plan(null)).reason).toBe(`install left-pad 1.3.0 (lock ${DIGEST.slice(0, 12)})`);
    expect(change(h.op.plan('f'.repeat(64))).reason).toBe(`replace lock ffffffffffff with left-pad 1.3.0 (lock ${DIGEST.slice(0, 12)})`);
    expect(change(h.op.plan(null)).script).toContain(`sha256sum <${UPLOAD} `);
  });

  it('refuses a relative dest, / and a trailing slash', () => {
    const o = { lock: LOCK, lockDir: '/l', label: 'x' };
    expect(() => ops.nodePackage({ ...o, dest: 'opt/x' })).toThrow();
    expect(() => ops.nodePackage({ ...o, dest: '/' })).toThrow(/without trailing slash/);
    expect(() => ops.nodePackage({ ...o, dest: '/opt/x/' })).toThrow(/without trailing slash/);
  });

  it('uploads only after prepare(): the cached bundle of the lock (prepareArtifacts prepares node-package ops); a lock changed since the plan is refused', async () => {
    const cacheDir = tmp('orch-npm-cache-');
    const lockDir = tmp('orch-npm-lock-');
    writeFileSync(join(lockDir, 'package.json'), LOCK.manifest);
    writeFileSync(join(lockDir, 'package-lock.json'), LOCK.lock);
    const op = ops.nodePackage({ dest: '/opt/app/left-pad', lock: LOCK, lockDir, label: 'left-pad 1.3.0', bundleOptions: { cacheDir } });
    expect(() => op.uploads!(null)).toThrow(/not built yet/);
    // the cache already holds the bundle: no npm run
    const root = join(cacheDir, 'npm-bundle', DIGEST);
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'bundle.tar.sha256'), `${'a'.repeat(64)}\n`);
    await prepareArtifacts([op]);
    expect(op.uploads!(null)).toEqual([
      { local: join(root, 'bundle.tar'), remote: UPLOAD, mode: 0o600 },
      { local: join(root, 'bundle.tar.sha256'), remote: `${UPLOAD}.sha256`, mode: 0o600 },
    ]);
    writeFileSync(join(lockDir, 'package.json'), `${LOCK.manifest} `);
    const stale = ops.nodePackage({ dest: '/opt/app/left-pad', lock: LOCK, lockDir, label: 'left-pad 1.3.0', bundleOptions: { cacheDir } });
    const changed = npmLockDigest({ ...LOCK, manifest: `${LOCK.manifest} ` });
    mkdirSync(join(cacheDir, 'npm-bundle', changed), { recursive: true });
    writeFileSync(join(cacheDir, 'npm-bundle', changed, 'bundle.tar.sha256'), `${'b'.repeat(64)}\n`);
    await expect(stale.prepare()).rejects.toThrow(/changed since the plan/);
  });
});

describe('ops.nodePackage: the change script (sh)', () => {
  it('installs into dest, writes the marker, removes the uploads and leaves nothing beside dest; then ok', () => {
    const h = host();
    h.push();
    const r = h.run(h.op.plan(gather(h.op.fact!)));
    expect(r.stdout).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(join(h.dest, 'node_modules/left-pad/index.js'), 'utf8')).toBe('module.exports = 1;\n');
    expect(readFileSync(join(h.dest, 'package.json'), 'utf8')).toBe(MANIFEST);
    expect(readFileSync(h.marker, 'utf8')).toBe(`${DIGEST}\n`);
    expect(readdirSync(join(h.dest, '..'))).toEqual(['left-pad']);
    expect(existsSync(h.tar) || existsSync(`${h.tar}.sha256`)).toBe(false);
    expect(h.op.plan(gather(h.op.fact!)).status).toBe('ok');
  });

  it('replaces an older install whole: files the new bundle lacks are gone', () => {
    const h = host();
    mkdirSync(join(h.dest, 'node_modules', 'old'), { recursive: true });
    writeFileSync(join(h.dest, 'node_modules', 'old', 'stale.js'), 'old\n');
    writeFileSync(h.marker, `${'f'.repeat(64)}\n`);
    const plan = h.op.plan(gather(h.op.fact!));
    expect(change(plan).reason).toMatch(/^replace lock ffffffffffff with /);
    h.push();
    expect(h.run(plan).code).toBe(0);
    expect(existsSync(join(h.dest, 'node_modules', 'old'))).toBe(false);
    expect(readFileSync(h.marker, 'utf8')).toBe(`${DIGEST}\n`);
    expect(readdirSync(join(h.dest, '..'))).toEqual(['left-pad']);
  });

  it('refuses a tar whose sha256 is not the pushed one: dest left as it was, the uploads removed', () => {
    const h = host();
    mkdirSync(h.dest, { recursive: true });
    writeFileSync(join(h.dest, 'keep.js'), 'old\n');
    writeFileSync(h.marker, `${'f'.repeat(64)}\n`);
    h.push({ good: false });
    const r = h.run(h.op.plan('f'.repeat(64)));
    expect(r.code).not.toBe(0);
    expect(r.stdout).toContain('sha256 mismatch on the host');
    expect(readFileSync(join(h.dest, 'keep.js'), 'utf8')).toBe('old\n');
    expect(readFileSync(h.marker, 'utf8')).toBe(`${'f'.repeat(64)}\n`);
    expect(readdirSync(join(h.dest, '..'))).toEqual(['left-pad']);
    expect(existsSync(h.tar)).toBe(false);
  });

  it('a tar that does not unpack (its sha256 matching) stops the script before anything is marked or moved', () => {
    const h = host();
    mkdirSync(h.dest, { recursive: true });
    writeFileSync(join(h.dest, 'keep.js'), 'old\n');
    h.push({ raw: Buffer.from('not a tar archive\n'.repeat(64)) });
    const r = h.run(h.op.plan(null));
    expect(r.code).not.toBe(0);
    expect(readFileSync(join(h.dest, 'keep.js'), 'utf8')).toBe('old\n');
    expect(existsSync(h.marker)).toBe(false);
    expect(h.op.plan(gather(h.op.fact!)).status).toBe('change');
    // nothing pushed at all: the same
    const g = host();
    expect(g.run(g.op.plan(null)).code).not.toBe(0);
    expect(existsSync(g.dest)).toBe(false);
  });
});

describe('npm locks', () => {
  it('checkNpmLock accepts a lockfileVersion 2 or 3 lock whose every package has a version and an integrity (resolved optional)', () => {
    expect(() => checkNpmLock(LOCK.lock, 'l')).not.toThrow();
    expect(() => checkNpmLock(lockOf({ 'node_modules/left-pad': LEFT_PAD }, 2), 'l')).not.toThrow();
    // npm's omit-lockfile-registry-resolved: no resolved URL, the registry given to npm ci
    expect(() => checkNpmLock(lockOf({ 'node_modules/left-pad': { ...LEFT_PAD, resolved: undefined } }), 'l')).not.toThrow();
  });

  it('checkNpmLock refuses: not JSON, lockfileVersion 1, no package, a package without integrity or version, a link', () => {
    expect(() => checkNpmLock('{ nope', 'here/package-lock.json')).toThrow(/^here\/package-lock\.json: not JSON/);
    expect(() => checkNpmLock(JSON.stringify({ lockfileVersion: 1, dependencies: { 'left-pad': LEFT_PAD } }), 'l')).toThrow(/lockfileVersion 1, expected 2 or 3/);
    expect(() => checkNpmLock(lockOf({}), 'l')).toThrow(/locks no package/);
    expect(() => checkNpmLock(lockOf({ 'node_modules/left-pad': { ...LEFT_PAD, integrity: undefined } }), 'l')).toThrow(/node_modules\/left-pad has no version or integrity/);
    expect(() => checkNpmLock(lockOf({ 'node_modules/left-pad': { ...LEFT_PAD, version: undefined } }), 'l')).toThrow(/node_modules\/left-pad has no version or integrity/);
    expect(() => checkNpmLock(lockOf({ 'node_modules/mine': { resolved: '../mine', link: true } }), 'l')).toThrow(/node_modules\/mine is a link/);
  });

  it('npmLockDigest changes with either file; readNpmLock reads both and checks the lock', async () => {
    expect(DIGEST).toMatch(/^[0-9a-f]{64}$/);
    expect(npmLockDigest({ ...LOCK })).toBe(DIGEST);
    expect(npmLockDigest({ ...LOCK, manifest: `${MANIFEST} ` })).not.toBe(DIGEST);
    expect(npmLockDigest({ ...LOCK, lock: `${LOCK.lock}\n` })).not.toBe(DIGEST);
    // the boundary between the files counts
    expect(npmLockDigest({ manifest: 'ab', lock: 'c' })).not.toBe(npmLockDigest({ manifest: 'a', lock: 'bc' }));
    const dir = tmp('orch-npm-lock-');
    writeFileSync(join(dir, 'package.json'), MANIFEST);
    writeFileSync(join(dir, 'package-lock.json'), LOCK.lock);
    expect(readNpmLock(dir)).toEqual(LOCK);
    writeFileSync(join(dir, 'package-lock.json'), lockOf({}));
    expect(() => readNpmLock(dir)).toThrow(/locks no package/);
  });
});

describe('ensureNpmBundle (npm registry: network)', () => {
  it("npm ci of the jupyterhub role's configurable-http-proxy lock: one tar with the program; the second call is a cache hit", async () => {
    const cacheDir = tmp('orch-npm-bundle-');
    const lockDir = proxyLockDir('4.6.3');
    const bundle = await ensureNpmBundle(lockDir, { cacheDir });
    expect(bundle.digest).toBe(npmLockDigest(readNpmLock(lockDir)));
    expect(bundle.tar).toBe(join(cacheDir, 'npm-bundle', bundle.digest, 'bundle.tar'));
    expect(bundle.sha256).toBe(sha256(readFileSync(bundle.tar)));
    expect(readFileSync(`${bundle.tar}.sha256`, 'utf8')).toBe(`${bundle.sha256}\n`);
    const list = spawnSync('tar', ['-tf', bundle.tar], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).stdout.split('\n');
    expect(list).toContain('node_modules/configurable-http-proxy/bin/configurable-http-proxy');
    expect(list).toContain('package.json');
    expect(list).toContain('package-lock.json');
    expect(list).not.toContain('node_modules/.package-lock.json');
    const meta = spawnSync('tar', ['-xOf', bundle.tar, 'node_modules/configurable-http-proxy/package.json'], { encoding: 'utf8' }).stdout;
    expect(JSON.parse(meta).version).toBe('4.6.3');
    // no work directory left in the cache
    expect(readdirSync(join(cacheDir, 'npm-bundle', bundle.digest)).sort()).toEqual(['bundle.tar', 'bundle.tar.sha256']);
    expect(await ensureNpmBundle(lockDir, { cacheDir })).toEqual(bundle);
  }, 180_000);
});
