/**
 * The Go-binary recipe's pieces that need no network (the build itself runs in test/integration/role-minio.test.ts):
 * the go install command line and environment, the cache key, MinIO's entries in the catalogue and the recipe, and
 * buildWith's handling of a recipe whose release is one file.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { artifactSource, officialUrl, release, releases } from '../../src/artifacts/index.js';
import { goArch, goBinaryRecipe, goEnv, goInstallArgs, installTarget } from '../../src/sim/artifacts/go.js';
import { buildWith, recipeFor, recipeKey } from '../../src/sim/artifacts/index.js';
import { MINIO_BUILDS, MINIO_RELEASE, minioRecipe } from '../../src/sim/artifacts/minio.js';

const MINIO_AMD64 = '7c5bd8512c6e966455b1d198209358b2d191c77a83ab377c4073281065fb855f';

describe('go binary recipe', () => {
  it('go install at the pinned version: trimpath, no VCS stamp, tags and ldflags when given, module root or a package', () => {
    const b = { module: 'github.com/minio/minio', version: 'v0.0.0-20260212201848-7aac2a2c5b7c', binary: 'minio' };
    expect(installTarget(b)).toBe('github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c');
    expect(goInstallArgs(b)).toEqual(['install', '-trimpath', '-buildvcs=false', 'github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c']);
    expect(installTarget({ module: 'go.etcd.io/etcd/server/v3', version: 'v3.5.16', package: '/' })).toBe('go.etcd.io/etcd/server/v3@v3.5.16');
    expect(goInstallArgs({ module: 'example.com/m', version: 'v1.2.3', package: 'cmd/tool/', binary: 'tool', tags: ['kqueue', 'netgo'], ldflags: '-s -w' })).toEqual([
      'install',
      '-trimpath',
      '-buildvcs=false',
      '-tags',
      'kqueue,netgo',
      '-ldflags=-s -w',
      'example.com/m/cmd/tool@v1.2.3',
    ]);
  });

  it('builds static, with this Go only, module and build caches under the artifact cache root; the caller\'s GOFLAGS do not leak in', () => {
    const env = goEnv('/c/test-artifacts', '/c/w/bin', { PATH: '/usr/bin', GOFLAGS: '-mod=vendor', GOPROXY: 'https://proxy.example' });
    expect(env).toMatchObject({
      PATH: '/usr/bin',
      GOPROXY: 'https://proxy.example',
      GOPATH: '/c/test-artifacts/go',
      GOMODCACHE: '/c/test-artifacts/go/pkg/mod',
      GOCACHE: '/c/test-artifacts/go/cache',
      GOBIN: '/c/w/bin',
      CGO_ENABLED: '0',
      GOOS: 'linux',
      GOTOOLCHAIN: 'local',
      GOFLAGS: '-modcacherw',
    });
    expect(goArch('x64')).toBe('amd64');
    expect(goArch('arm64')).toBe('arm64');
    expect(() => goArch('mips')).toThrow(/no Go architecture/);
  });

  it('MinIO: the seed\'s release in the catalogue per architecture (official binary, sha256 pinned); the recipe serves the proxy\'s pseudo-version as that release', () => {
    const r = release('minio', MINIO_RELEASE, 'amd64');
    expect(r).toMatchObject({ fileName: 'minio.RELEASE.2025-09-07T16-13-09Z', topDir: 'minio-RELEASE.2025-09-07T16-13-09Z', sha256: MINIO_AMD64 });
    expect(r.sha512).toBeUndefined();
    expect(officialUrl(r)).toBe('https://dl.min.io/server/minio/release/linux-amd64/archive/minio.RELEASE.2025-09-07T16-13-09Z');
    expect(releases('minio').map((x) => x.arch)).toEqual(['amd64', 'arm64']);
    expect(artifactSource(r, { mirror: 'file:///m/' }).url).toBe('file:///m/server/minio/release/linux-amd64/archive/minio.RELEASE.2025-09-07T16-13-09Z');
    // every version the recipe builds is a catalogued release, for the controller's architecture
    expect(recipeFor('minio')).toBe(minioRecipe);
    for (const v of minioRecipe.versions) expect(minioRecipe.release!(v)).toEqual(release('minio', v, goArch()));
    expect(MINIO_BUILDS[MINIO_RELEASE]).toMatchObject({ module: 'github.com/minio/minio', version: 'v0.0.0-20260212201848-7aac2a2c5b7c', binary: 'minio' });
    expect(MINIO_BUILDS[MINIO_RELEASE].standsInFor).toContain(MINIO_RELEASE);
  });

  it('the cache key covers the module version, the build flags and the Go version', () => {
    const rel = release('minio', MINIO_RELEASE, goArch());
    const mk = (version: string, ldflags?: string) => goBinaryRecipe({ service: 'minio', builds: { [MINIO_RELEASE]: { module: 'github.com/minio/minio', version, binary: 'minio', ldflags } } });
    const a = recipeKey(mk('v0.0.0-20260212201848-7aac2a2c5b7c'), rel);
    expect(recipeKey(mk('v0.0.0-20260212201848-7aac2a2c5b7c'), rel)).toBe(a);
    expect(recipeKey(mk('v0.0.0-20260101000000-000000000000'), rel)).not.toBe(a);
    expect(recipeKey(mk('v0.0.0-20260212201848-7aac2a2c5b7c', '-s -w'), rel)).not.toBe(a);
    expect(JSON.stringify(minioRecipe.inputs(MINIO_RELEASE))).toMatch(/"go":"go1\.[0-9]+/);
    expect(() => minioRecipe.inputs('RELEASE.2024-01-01T00-00-00Z')).toThrow(/does not build RELEASE.2024-01-01T00-00-00Z \(it builds: RELEASE.2025-09-07T16-13-09Z\)/);
  });

  it('buildWith keeps a one-file release as it is (mode 0755, its sha512), cached by the key: a second build runs nothing', async () => {
    const root = mkdtempSync(join(tmpdir(), 'orch-go-unit-'));
    const rel = release('minio', MINIO_RELEASE, 'amd64');
    let builds = 0;
    const fake = {
      service: 'minio',
      versions: [MINIO_RELEASE],
      inputs: () => ({ fake: 1 }),
      async assemble() {
        builds++;
        const f = join(root, `built-${builds}`);
        writeFileSync(f, '#!/bin/sh\necho fake minio\n');
        return { file: f, resolved: ['example.com/fake@v1.0.0'] };
      },
    };
    const one = await buildWith(fake, rel, root);
    expect(one).toMatchObject({ cached: false, fileName: 'minio.RELEASE.2025-09-07T16-13-09Z', path: rel.path, resolved: ['example.com/fake@v1.0.0'] });
    expect(one.file.endsWith('/minio.RELEASE.2025-09-07T16-13-09Z')).toBe(true);
    expect(statSync(one.file).mode & 0o777).toBe(0o755);
    expect(one.sha512).toBe(createHash('sha512').update(readFileSync(one.file)).digest('hex'));
    const two = await buildWith(fake, rel, root);
    expect(two).toMatchObject({ cached: true, sha512: one.sha512, file: one.file });
    expect(builds).toBe(1);
  });
});
