/**
 * A recipe for a service whose release is one static Go binary: `go install <module>/<package>@<version>` with this
 * machine's Go, through the Go module proxy (the machine's GOPROXY and GOSUMDB: every module is checked against the
 * checksum database), CGO_ENABLED=0, `-trimpath`, no VCS stamping, for the controller's own architecture (the
 * simulated hosts run on it). GOPATH, GOMODCACHE and GOCACHE live under the test-artifact cache root
 * (`<cache>/go/...`), so module downloads and compiled packages are fetched and built once per machine; the binary is
 * cached by the recipe key (module, version, package, binary, build flags, Go version), so a second build of the same
 * inputs is a cache hit that runs no `go` at all.
 *
 *   goBinaryRecipe({ service: 'minio', builds: { 'RELEASE.2025-09-07T16-13-09Z': { module: 'github.com/minio/minio',
 *     version: 'v0.0.0-20260212201848-7aac2a2c5b7c', binary: 'minio', standsInFor: '...' } } })
 *
 * The catalogue version (the key of `builds`) is the release the binary is served as; the module version is what the
 * proxy serves. Where they differ, `standsInFor` says so, and so does the build's `resolved` list.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { release, type Release } from '../../artifacts/index.js';
import type { AssembledFile, Recipe, RecipeContext } from './recipe.js';

export interface GoBuild {
  /** the module path, e.g. github.com/minio/minio */
  module: string;
  /** the module version the proxy serves: a tag (v1.2.3) or a pseudo-version (v0.0.0-20260212201848-7aac2a2c5b7c) */
  version: string;
  /** the main package inside the module, relative to it ('' or absent: the module root), e.g. cmd/etcd */
  package?: string;
  /** the binary `go install` writes (the package's last path element) */
  binary: string;
  /** extra `-ldflags` (e.g. -X main.version=...); none by default */
  ldflags?: string;
  /** build tags */
  tags?: string[];
  /** what this build stands in for, when the module version is not the catalogue's release */
  standsInFor?: string;
}

export interface GoBinaryRecipeOptions {
  service: string;
  /** catalogue version -> the build that is served as it */
  builds: Record<string, GoBuild>;
  /** the catalogue entry for a version and Go architecture (default: release(service, version, arch)) */
  release?: (version: string, arch: string) => Release;
}

/** Go's architecture name of the controller (Node's x64 -> amd64 ...) */
export function goArch(nodeArch: string = process.arch): string {
  const a = ({ x64: 'amd64', arm64: 'arm64', ppc64: 'ppc64le', s390x: 's390x', ia32: '386', arm: 'arm' } as Record<string, string>)[nodeArch];
  if (!a) throw new Error(`no Go architecture for Node's ${nodeArch}`);
  return a;
}

/** the package path `go install` gets: module[/package]@version */
export function installTarget(b: Pick<GoBuild, 'module' | 'version' | 'package'>): string {
  const pkg = (b.package ?? '').replace(/^\/+|\/+$/g, '');
  return `${b.module}${pkg ? `/${pkg}` : ''}@${b.version}`;
}

/** `go install`'s arguments for a build (flags first, then the target) */
export function goInstallArgs(b: GoBuild): string[] {
  const args = ['install', '-trimpath', '-buildvcs=false'];
  if (b.tags?.length) args.push('-tags', b.tags.join(','));
  if (b.ldflags) args.push(`-ldflags=${b.ldflags}`);
  args.push(installTarget(b));
  return args;
}

/** The environment of a build: the module and build caches under the cache root, static, this Go only. */
export function goEnv(cacheRoot: string, gobin: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const go = join(cacheRoot, 'go');
  return {
    ...base,
    GOPATH: go,
    GOMODCACHE: join(go, 'pkg', 'mod'),
    GOCACHE: join(go, 'cache'),
    GOBIN: gobin,
    CGO_ENABLED: '0',
    GOOS: 'linux',
    GOARCH: goArch(),
    // the machine's Go, never a toolchain fetched because a go.mod asks for a newer one: a clear error instead
    GOTOOLCHAIN: 'local',
    // a go.mod or GOFLAGS of the caller's must not leak in (go install pkg@version builds the module's own go.mod)
    GOFLAGS: '-modcacherw',
    GO111MODULE: 'on',
  };
}

let goVersionMemo: string | undefined;
/** `go env GOVERSION` of this machine (part of the cache key: another Go gives other bytes) */
export function localGoVersion(): string {
  if (goVersionMemo) return goVersionMemo;
  try {
    goVersionMemo = execFileSync('go', ['env', 'GOVERSION'], { encoding: 'utf8', env: { ...process.env, GOTOOLCHAIN: 'local' } }).trim();
  } catch (e) {
    throw new Error(`building a Go binary needs the go command on PATH (${(e as Error).message.split('\n')[0]})`);
  }
  return goVersionMemo;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, log?: (s: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    // nice: a build of a large module takes minutes of both CPUs of this machine, shared with others
    const p = spawn('nice', ['-n', '10', cmd, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const keep = (b: Buffer) => {
      tail = (tail + b.toString()).slice(-8000);
    };
    p.stdout.on('data', keep);
    p.stderr.on('data', keep);
    p.on('error', reject);
    p.on('close', (code) => {
      if (code === 0) resolve();
      else {
        log?.(tail);
        reject(new Error(`${cmd} ${args.join(' ')} failed (exit ${code}):\n${tail.trim().split('\n').slice(-25).join('\n')}`));
      }
    });
  });
}

export function goBinaryRecipe(o: GoBinaryRecipeOptions): Recipe {
  const build = (version: string): GoBuild => {
    const b = o.builds[version];
    if (!b) throw new Error(`the ${o.service} Go recipe does not build ${version} (it builds: ${Object.keys(o.builds).join(', ')})`);
    return b;
  };
  return {
    service: o.service,
    versions: Object.keys(o.builds),
    release: (version) => (o.release ?? ((v, a) => release(o.service, v, a)))(version, goArch()),
    inputs(version) {
      const b = build(version);
      return { kind: 'go-install', go: localGoVersion(), arch: goArch(), args: goInstallArgs(b), binary: b.binary, standsInFor: b.standsInFor ?? null };
    },
    async assemble(version: string, ctx: RecipeContext): Promise<AssembledFile> {
      const b = build(version);
      const go = localGoVersion();
      await mkdir(ctx.cacheRoot, { recursive: true });
      const work = await mkdtemp(join(ctx.cacheRoot, `.go-${o.service}-`));
      try {
        const gobin = join(work, 'bin');
        const args = goInstallArgs(b);
        const t0 = Date.now();
        ctx.log?.(`go ${args.join(' ')} (${go}, linux/${goArch()}, CGO_ENABLED=0, modules cached in ${join(ctx.cacheRoot, 'go')})`);
        await run('go', args, goEnv(ctx.cacheRoot, gobin), work, ctx.log);
        const file = join(gobin, b.binary);
        if (!existsSync(file)) throw new Error(`go install ${installTarget(b)} wrote no ${b.binary} into GOBIN (is binary the package's last path element?)`);
        // take the binary out of the work dir before it is removed
        const out = join(ctx.cacheRoot, `.go-${o.service}-${process.pid}-${Date.now()}.bin`);
        await rename(file, out);
        ctx.log?.(`built ${b.binary} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        const resolved = [`${installTarget(b)} (go install -trimpath, ${go}, linux/${goArch()}, CGO_ENABLED=0)`];
        if (b.standsInFor) resolved.push(`stands in for: ${b.standsInFor}`);
        return { file: out, mode: 0o755, resolved };
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    },
  };
}
