import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifact, prepareArtifacts, ARTIFACT_MARKER } from '../../src/ops/artifact.js';
import { cachedPath, ensureCached } from '../../src/ops/artifact-cache.js';
import type { Plan } from '../../src/ops/types.js';
import { apply, gather, sh, tmp } from './ops-harness.js';

const sha512 = (b: Buffer) => createHash('sha512').update(b).digest('hex');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let fixtures: string;
let tgz: Buffer;
let zip: Buffer;
let server: Server;
let base: string;
let hits: Record<string, number> = {};

beforeAll(async () => {
  fixtures = tmp('orch-art-fixture-');
  const src = join(fixtures, 'kafka_2.13-3.9.0');
  mkdirSync(join(src, 'bin'), { recursive: true });
  mkdirSync(join(src, 'libs'));
  writeFileSync(join(src, 'bin', 'kafka-server-start.sh'), '#!/bin/sh\necho start\n', { mode: 0o755 });
  writeFileSync(join(src, 'libs', 'kafka.jar'), Buffer.alloc(4096, 7));
  writeFileSync(join(src, '.hidden'), 'h');
  expect(sh(`cd '${fixtures}' && tar -czf kafka.tgz kafka_2.13-3.9.0 && zip -qr kafka.zip kafka_2.13-3.9.0`).code).toBe(0);
  tgz = readFileSync(join(fixtures, 'kafka.tgz'));
  zip = readFileSync(join(fixtures, 'kafka.zip'));
  server = createServer((req, res) => {
    hits[req.url!] = (hits[req.url!] ?? 0) + 1;
    if (req.url === '/dl/kafka_2.13-3.9.0.tgz') res.end(tgz);
    else if (req.url === '/dl/kafka_2.13-3.9.0.zip') res.end(zip);
    else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

describe('ensureCached', () => {
  it('downloads once, verifies, then serves from the cache', async () => {
    hits = {};
    const cache = tmp('orch-cache-');
    const url = `${base}/dl/kafka_2.13-3.9.0.tgz`;
    const p = await ensureCached(url, sha512(tgz), cache);
    expect(p).toBe(join(cache, sha512(tgz).slice(0, 16), 'kafka_2.13-3.9.0.tgz'));
    expect(p).toBe(cachedPath(url, sha512(tgz), cache));
    expect(readFileSync(p).equals(tgz)).toBe(true);
    expect(await ensureCached(url, sha512(tgz).toUpperCase(), cache)).toBe(p);
    expect(hits['/dl/kafka_2.13-3.9.0.tgz']).toBe(1);
  });

  it('a wrong sha512 fails naming both hashes and leaves nothing behind', async () => {
    const cache = tmp('orch-cache-');
    const wrong = 'ab'.repeat(64);
    const url = `${base}/dl/kafka_2.13-3.9.0.tgz`;
    await expect(ensureCached(url, wrong, cache)).rejects.toThrow(`sha512 mismatch for ${url}: expected ${wrong}, got ${sha512(tgz)}`);
    expect(sh(`find '${cache}' -type f`).stdout).toBe('');
  });

  it('a corrupted cached file is replaced', async () => {
    const cache = tmp('orch-cache-');
    const url = `${base}/dl/kafka_2.13-3.9.0.zip`;
    const path = cachedPath(url, sha512(zip), cache);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, 'corrupt');
    expect(readFileSync(await ensureCached(url, sha512(zip), cache)).equals(zip)).toBe(true);
  });

  it('HTTP errors, file:// URLs, bad hashes', async () => {
    const cache = tmp('orch-cache-');
    await expect(ensureCached(`${base}/dl/missing.tgz`, sha512(tgz), cache)).rejects.toThrow(/HTTP 404/);
    const fileUrl = pathToFileURL(join(fixtures, 'kafka.tgz')).href;
    expect(readFileSync(await ensureCached(fileUrl, sha512(tgz), cache)).equals(tgz)).toBe(true);
    expect(() => ensureCached(fileUrl, 'abc', cache)).toThrow(/invalid sha512/);
  });
});

/** What the runner does: prepare, push uploads (here: a local copy), apply. */
function runApply(op: ReturnType<typeof artifact>, plan: Plan) {
  for (const u of op.uploads!(gather(op.fact!))) copyFileSync(u.local, u.remote);
  return apply(plan);
}

describe('artifact op', () => {
  it('plans from parsed facts', () => {
    const sha = sha512(tgz);
    const op = artifact({ url: `${base}/dl/kafka_2.13-3.9.0.tgz`, sha512: sha, dest: '/opt/kafka/releases/3.9.0', link: '/opt/kafka/current' });
    const dirStat = { type: 'directory', owner: 'root', group: 'root', mode: 0o755, uid: 0, gid: 0 };
    const f = op.fact!.parse(`M|${sha}\nS|directory|root|root|755|0|0\nL|/opt/kafka/releases/3.9.0\n`, 0);
    expect(f).toEqual({ marker: sha, dest: dirStat, link: { link: '/opt/kafka/releases/3.9.0' } });
    expect(op.plan(f)).toEqual({
      status: 'ok',
      reason: `kafka_2.13-3.9.0.tgz unpacked (sha512 ${sha.slice(0, 12)}..), /opt/kafka/current -> /opt/kafka/releases/3.9.0`,
    });
    expect(op.uploads!(f)).toEqual([]); // nothing to push: no download needed either
    expect(op.plan({ marker: null, dest: null, link: {} }).reason).toBe(
      `download kafka_2.13-3.9.0.tgz (sha512 ${sha.slice(0, 12)}..) and unpack, /opt/kafka/current: create link -> /opt/kafka/releases/3.9.0`,
    );
    expect(op.plan({ marker: 'ff'.repeat(64), dest: dirStat, link: { link: '/opt/kafka/releases/3.9.0' } }).reason).toBe(
      `/opt/kafka/releases/3.9.0 has sha512 ffffffffffff..: replace with kafka_2.13-3.9.0.tgz (sha512 ${sha.slice(0, 12)}..)`,
    );
    expect(op.plan({ marker: sha, dest: dirStat, link: { link: '/opt/kafka/releases/3.8.0' } })).toMatchObject({
      status: 'change',
      reason: '/opt/kafka/current: link target /opt/kafka/releases/3.8.0 -> /opt/kafka/releases/3.9.0',
    });
    expect(op.plan({ marker: sha, dest: dirStat, link: { other: 'directory' } }).reason).toMatch(/refusing to replace it/);
    expect(() => op.uploads!({ marker: null, dest: null, link: {} })).toThrow(/prepareArtifacts/);
  });

  it('rejects unknown archive types and bad options', () => {
    const sha = sha512(tgz);
    expect(() => artifact({ url: 'http://x/a.rar', sha512: sha, dest: '/opt/a' })).toThrow(/unsupported archive/);
    expect(() => artifact({ url: 'http://x/a.zip', sha512: sha, dest: '/opt/a', stripComponents: 2 })).toThrow(/0 or 1/);
    expect(() => artifact({ url: 'http://x/a.tgz', sha512: 'x', dest: '/opt/a' })).toThrow(/sha512/);
    expect(() => artifact({ url: 'http://x/a.tgz', sha256: 'x', dest: '/opt/a' })).toThrow(/invalid sha256/);
    expect(() => artifact({ url: 'http://x/a.tgz', dest: '/opt/a' })).toThrow(/exactly one of sha512 and sha256/);
    expect(() => artifact({ url: 'http://x/a.tgz', sha512: sha, sha256: sha256(tgz), dest: '/opt/a' })).toThrow(/exactly one/);
  });

  it('a release pinned by its sha256 (etcd publishes no sha512): cached, verified on the host with sha256sum, marked sha256:<hex>', async () => {
    const root = tmp('orch-art-host-');
    const cache = tmp('orch-cache-');
    const dest = join(root, 'etcd');
    const url = `${base}/dl/kafka_2.13-3.9.0.tgz`;
    const op = artifact({ url, sha256: sha256(tgz), dest, stripComponents: 1, cacheDir: cache });
    const first = op.plan(gather(op.fact!));
    expect(first.reason).toBe(`download kafka_2.13-3.9.0.tgz (sha256 ${sha256(tgz).slice(0, 12)}..) and unpack`);
    expect(first.status === 'change' && first.script).toContain('sha256sum <"$f" | cut -c1-64');
    await prepareArtifacts([op]);
    expect(existsSync(cachedPath(url, `sha256:${sha256(tgz)}`, cache))).toBe(true);
    expect(runApply(op, first).code).toBe(0);
    expect(readFileSync(join(dest, ARTIFACT_MARKER), 'utf8').split('\n')[0]).toBe(`sha256:${sha256(tgz)}`);
    expect(op.plan(gather(op.fact!))).toEqual({ status: 'ok', reason: `kafka_2.13-3.9.0.tgz unpacked (sha256 ${sha256(tgz).slice(0, 12)}..)` });
    // the same archive pinned by its sha512 is another artifact: replaced, naming both checksums
    const by512 = artifact({ url, sha512: sha512(tgz), dest, stripComponents: 1, cacheDir: cache });
    expect(by512.plan(gather(by512.fact!)).reason).toBe(
      `${dest} has sha256 ${sha256(tgz).slice(0, 12)}..: replace with kafka_2.13-3.9.0.tgz (sha512 ${sha512(tgz).slice(0, 12)}..)`,
    );
    // a wrong sha256 fails the download, naming both
    const wrong = 'ab'.repeat(32);
    await expect(ensureCached(url, `sha256:${wrong}`, tmp('orch-cache-'))).rejects.toThrow(`sha256 mismatch for ${url}: expected ${wrong}, got ${sha256(tgz)}`);
    rmSync(root, { recursive: true, force: true });
  });

  it('tgz: download, push, unpack with strip, link, owner; idempotent; new release switches the link', async () => {
    const root = tmp('orch-art-host-');
    const cache = tmp('orch-cache-');
    const dest = join(root, 'releases', '3.9.0');
    const link = join(root, 'current');
    const op = artifact({
      url: `${base}/dl/kafka_2.13-3.9.0.tgz`,
      sha512: sha512(tgz),
      dest,
      link,
      owner: 'nobody',
      group: 'nogroup',
      stripComponents: 1,
      cacheDir: cache,
    });
    const first = op.plan(gather(op.fact!));
    expect(first.status).toBe('change');
    await prepareArtifacts([op]);
    const r = runApply(op, first);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(join(dest, 'bin', 'kafka-server-start.sh'), 'utf8')).toBe('#!/bin/sh\necho start\n');
    expect(statSync(join(dest, 'bin', 'kafka-server-start.sh')).mode & 0o777).toBe(0o755);
    expect(readFileSync(join(dest, '.hidden'), 'utf8')).toBe('h');
    expect(statSync(join(dest, 'libs', 'kafka.jar')).uid).toBe(65534);
    expect(readFileSync(join(dest, ARTIFACT_MARKER), 'utf8').split('\n')[0]).toBe(sha512(tgz));
    expect(readlinkSync(link)).toBe(dest);
    expect(sh(`ls -A '${join(root, 'releases')}'`).stdout).toBe('3.9.0\n'); // no temp dirs left
    const again = op.plan(gather(op.fact!));
    expect(again.status).toBe('ok');
    for (const u of op.uploads!(gather(op.fact!))) expect(existsSync(u.remote)).toBe(false);

    // a second release from a zip (strip 1): unpacked next to it, link switched
    const dest2 = join(root, 'releases', '3.9.0-zip');
    const op2 = artifact({ url: `${base}/dl/kafka_2.13-3.9.0.zip`, sha512: sha512(zip), dest: dest2, link, stripComponents: 1, cacheDir: cache });
    await op2.prepare();
    const p2 = op2.plan(gather(op2.fact!));
    expect(p2.reason).toContain(`${link}: link target ${dest} -> ${dest2}`);
    expect(runApply(op2, p2).code).toBe(0);
    expect(readFileSync(join(dest2, '.hidden'), 'utf8')).toBe('h');
    expect(readlinkSync(link)).toBe(dest2);
    expect(op2.plan(gather(op2.fact!)).status).toBe('ok');
  });

  it('unpack: false keeps a one-file release whole in dest (a runner jar): verified, marked, linked, idempotent; options checked', async () => {
    const root = tmp('orch-art-host-');
    const jar = Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(8192, 3)]); // a zip (a jar is one) that must not be unpacked
    const local = join(tmp(), "nessie-quarkus-0.99.0-runner.jar");
    writeFileSync(local, jar);
    const dest = join(root, 'releases', '0.99.0');
    const link = join(root, 'current');
    const url = `${base}/dl/nessie-quarkus-0.99.0-runner.jar`;
    const op = artifact({ url, sha512: sha512(jar), dest, link, unpack: false, localPath: local });
    const first = op.plan(gather(op.fact!));
    expect(first.reason).toBe(`download nessie-quarkus-0.99.0-runner.jar (sha512 ${sha512(jar).slice(0, 12)}..) and place it in ${dest}, ${link}: create link -> ${dest}`);
    const r = runApply(op, first);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(join(dest, 'nessie-quarkus-0.99.0-runner.jar')).equals(jar)).toBe(true);
    expect(statSync(join(dest, 'nessie-quarkus-0.99.0-runner.jar')).mode & 0o777).toBe(0o644);
    expect(statSync(dest).mode & 0o777).toBe(0o755);
    expect(sh(`ls -A '${dest}'`).stdout).toBe(`${ARTIFACT_MARKER}\nnessie-quarkus-0.99.0-runner.jar\n`);
    expect(readFileSync(join(dest, ARTIFACT_MARKER), 'utf8').split('\n')[0]).toBe(sha512(jar));
    expect(readlinkSync(link)).toBe(dest);
    expect(sh(`ls -A '${join(root, 'releases')}'`).stdout).toBe('0.99.0\n');
    expect(op.plan(gather(op.fact!))).toEqual({ status: 'ok', reason: `nessie-quarkus-0.99.0-runner.jar in place (sha512 ${sha512(jar).slice(0, 12)}..), ${link} -> ${dest}` });
    expect(op.uploads!(gather(op.fact!))).toEqual([]);
    // a corrupt download fails on the host and leaves the release as it was
    const badLocal = join(tmp(), 'nessie-quarkus-0.99.0-runner.jar');
    writeFileSync(badLocal, 'not the jar');
    const dest2 = join(root, 'releases', 'bad');
    const bad = artifact({ url, sha512: sha512(jar), dest: dest2, unpack: false, localPath: badLocal });
    const rb = runApply(bad, bad.plan(gather(bad.fact!)));
    expect(rb.code).toBe(1);
    expect(rb.stdout).toContain('sha512 mismatch on the host');
    expect(existsSync(dest2)).toBe(false);
    // any name is fine without unpacking (no archive type needed); stripComponents is refused
    expect(() => artifact({ url: 'http://x/tool', sha512: sha512(jar), dest: '/opt/t', unpack: false })).not.toThrow();
    expect(() => artifact({ url: 'http://x/a.jar', sha512: sha512(jar), dest: '/opt/a', unpack: false, stripComponents: 1 })).toThrow(/stripComponents/);
    rmSync(root, { recursive: true, force: true });
  });

  it('unpack: false with mode 0755 places an executable (a static binary); a mode changed by hand is put back by chmod alone; a removed file comes back', async () => {
    const root = tmp('orch-art-host-');
    const bin = Buffer.concat([Buffer.from('#!/bin/sh\necho minio-stand-in\n'), Buffer.alloc(2048, 0x20)]);
    const local = join(tmp(), 'minio.RELEASE.2025-09-07T16-13-09Z');
    writeFileSync(local, bin);
    const dest = join(root, 'releases', 'RELEASE.2025-09-07T16-13-09Z');
    const file = join(dest, 'minio.RELEASE.2025-09-07T16-13-09Z');
    const url = `${base}/dl/minio.RELEASE.2025-09-07T16-13-09Z`;
    const op = artifact({ url, sha256: sha256(bin), dest, unpack: false, mode: 0o755, localPath: local });
    const r = runApply(op, op.plan(gather(op.fact!)));
    expect(r.code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o755);
    expect(sh(`'${file}'`).stdout).toBe('minio-stand-in\n');
    expect(op.plan(gather(op.fact!))).toEqual({ status: 'ok', reason: `minio.RELEASE.2025-09-07T16-13-09Z in place (sha256 ${sha256(bin).slice(0, 12)}..)` });
    // chmod by hand: the plan names the mode and fixes it without a download
    sh(`chmod 0644 '${file}'`);
    const drift = op.plan(gather(op.fact!));
    expect(drift).toMatchObject({ status: 'change', reason: `${file}: mode 0644 -> 0755` });
    expect(op.uploads!(gather(op.fact!))).toEqual([]);
    expect(runApply(op, drift).code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o755);
    expect(op.plan(gather(op.fact!)).status).toBe('ok');
    // the file removed (marker kept): downloaded and placed again
    rmSync(file);
    const gone = op.plan(gather(op.fact!));
    expect(gone.status).toBe('change');
    expect(op.uploads!(gather(op.fact!)).length).toBe(1);
    expect(runApply(op, gone).code).toBe(0);
    expect(readFileSync(file).equals(bin)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o755);
    // mode is for a file kept whole
    expect(() => artifact({ url: 'http://x/a.tgz', sha512: sha512(bin), dest: '/opt/a', mode: 0o755 })).toThrow(/mode is for a file kept whole/);
    rmSync(root, { recursive: true, force: true });
  });

  it('replaces a directory without the marker; host-side sha512 mismatch fails and keeps dest', async () => {
    const root = tmp('orch-art-host-');
    const dest = join(root, 'kafka');
    mkdirSync(dest);
    writeFileSync(join(dest, 'stale'), 'x');
    const local = join(tmp(), 'corrupt.tgz');
    writeFileSync(local, 'not the archive');
    const bad = artifact({ url: `${base}/dl/kafka_2.13-3.9.0.tgz`, sha512: sha512(tgz), dest, localPath: local });
    const p = bad.plan(gather(bad.fact!));
    expect(p.reason).toBe(`${dest} has no marker: replace with kafka_2.13-3.9.0.tgz (sha512 ${sha512(tgz).slice(0, 12)}..)`);
    const r = runApply(bad, p);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('sha512 mismatch on the host');
    expect(existsSync(join(dest, 'stale'))).toBe(true);

    const good = artifact({ url: `${base}/dl/kafka_2.13-3.9.0.tgz`, sha512: sha512(tgz), dest, localPath: join(fixtures, 'kafka.tgz') });
    expect(runApply(good, good.plan(gather(good.fact!))).code).toBe(0);
    expect(existsSync(join(dest, 'stale'))).toBe(false);
    expect(existsSync(join(dest, 'kafka_2.13-3.9.0', 'bin', 'kafka-server-start.sh'))).toBe(true); // no strip
    expect(good.plan(gather(good.fact!)).status).toBe('ok');
    rmSync(root, { recursive: true, force: true });
  });
});
