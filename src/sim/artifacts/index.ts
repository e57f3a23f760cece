/**
 * Test artifacts built from the package registries: the real software, in the release's own layout, for services
 * whose download sites this machine cannot reach (../../../../shared/ARTIFACTS.md says, per service, where from).
 *
 *   const kafka = await buildArtifact({ service: 'kafka', version: '3.9.0' });  // { file, sha512, fileName, path, cached }
 *   const mirror = await serveArtifacts([kafka]);     // http://127.0.0.1:<port>/ serving <path> of each artifact
 *   ... role vars: artifact_mirror: mirror.url, kafka_sha512: kafka.sha512 ...
 *   afterAll(() => mirror.close());
 *
 * The archive is cached on the controller by a hash of its recipe (service, version, the pinned registry
 * coordinates, the contents of the scripts and files it adds, the archive format) under
 * `$XDG_CACHE_HOME/orch/test-artifacts` (else `~/.cache/orch/test-artifacts`), with a manifest naming its sha512 and
 * the resolved coordinates; a second build, in any test file or run on the machine, is a cache hit (`cached: true`)
 * and needs no network or Maven. The archive is reproducible (sorted entries, fixed mtimes and owners), so a
 * rebuild from the same inputs gives the same bytes and the same sha512. Registries' files are kept in their own
 * cache (Maven: `<cache>/maven-repo`), so a fresh machine fetches each once.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { release, type Release } from '../../artifacts/index.js';
import { fileDigest } from '../../core/file-hash.js';
import { cachedOrFilled } from '../../core/file-lock.js';
import { flinkRecipe } from './flink/recipe.js';
import { kafkaRecipe } from './kafka/recipe.js';
import { minioRecipe } from './minio.js';
import { sparkRecipe } from './spark/recipe.js';
import type { Recipe } from './recipe.js';
import { writeTgz } from './tgz.js';

export type { AssembledArchive, AssembledFile, Recipe, RecipeContext } from './recipe.js';

/** bump when the archive format or the cache layout changes: every key changes with it */
export const ARTIFACT_FORMAT = 1;

/** the recipes, one per service: add Spark (PyPI pyspark sdist), Flink (apache-flink-libraries) ... here */
const RECIPES = new Map<string, Recipe>([
  [kafkaRecipe.service, kafkaRecipe],
  [flinkRecipe.service, flinkRecipe],
  [sparkRecipe.service, sparkRecipe],
  [minioRecipe.service, minioRecipe],
]);

export function recipeFor(service: string): Recipe {
  const r = RECIPES.get(service);
  if (!r) throw new Error(`no test-artifact recipe for ${service} (recipes: ${[...RECIPES.keys()].sort().join(', ')})`);
  return r;
}

/** `$XDG_CACHE_HOME/orch/test-artifacts`, else `~/.cache/orch/test-artifacts` */
export function testArtifactCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'orch', 'test-artifacts');
}

/** The cache key of a build: sha256 over the format, the release (path, top dir) and the recipe's inputs. */
export function recipeKey(r: Recipe, rel: Pick<Release, 'service' | 'version' | 'path' | 'topDir'>): string {
  const doc = { format: ARTIFACT_FORMAT, service: rel.service, version: rel.version, path: rel.path, topDir: rel.topDir, inputs: r.inputs(rel.version) };
  return createHash('sha256').update(JSON.stringify(doc)).digest('hex');
}

export interface BuildOptions {
  service: string;
  version: string;
  /** default testArtifactCacheDir() */
  cacheDir?: string;
  log?: (s: string) => void;
}

export interface BuiltArtifact {
  service: string;
  version: string;
  /** the archive on the controller */
  file: string;
  sha512: string;
  /** the release's file name, e.g. kafka_2.13-3.9.0.tgz */
  fileName: string;
  /** its path under a mirror (as in the catalogue), e.g. kafka/3.9.0/kafka_2.13-3.9.0.tgz */
  path: string;
  topDir: string;
  /** the recipe hash it is cached under */
  key: string;
  /** true when it came from the cache */
  cached: boolean;
  /** the registry coordinates it was assembled from, as resolved */
  resolved: string[];
}

interface Manifest {
  format: number;
  key: string;
  service: string;
  version: string;
  fileName: string;
  sha512: string;
  resolved: string[];
}

async function readManifest(file: string): Promise<Manifest | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

const building = new Map<string, Promise<BuiltArtifact>>();

/** Build (or take from the cache) the test artifact of a service and version. */
export async function buildArtifact(o: BuildOptions): Promise<BuiltArtifact> {
  const recipe = recipeFor(o.service);
  if (!recipe.versions.includes(o.version)) {
    throw new Error(`the ${o.service} test-artifact recipe does not build ${o.version} (it builds: ${recipe.versions.join(', ')})`);
  }
  return buildWith(recipe, recipe.release ? recipe.release(o.version) : release(o.service, o.version), o.cacheDir ?? testArtifactCacheDir(), o.log);
}

/** The cache logic of buildArtifact for a given recipe and release (one build at a time per cache entry in a process). */
export function buildWith(recipe: Recipe, rel: Release, root: string, log?: (s: string) => void): Promise<BuiltArtifact> {
  const key = recipeKey(recipe, rel);
  const dir = join(root, `${rel.service}-${rel.version}-${key.slice(0, 16)}`);
  const inFlight = building.get(dir);
  if (inFlight) return inFlight;
  const file = join(dir, rel.fileName);
  const manifestFile = join(dir, 'manifest.json');
  const base = { service: rel.service, version: rel.version, file, fileName: rel.fileName, path: rel.path, topDir: rel.topDir, key };
  const hit = async (): Promise<BuiltArtifact | undefined> => {
    const m = await readManifest(manifestFile);
    if (m && m.key === key && existsSync(file) && (await fileDigest(file, 'sha512')) === m.sha512) {
      log?.(`${rel.fileName}: cache hit (${dir})`);
      return { ...base, sha512: m.sha512, cached: true, resolved: m.resolved };
    }
    return undefined;
  };
  // another process (a test file running in parallel) may be building the same entry: one builds, the other waits
  const p = cachedOrFilled(`${dir}.lock`, hit, build, { log, what: `the ${rel.fileName} build` });
  building.set(dir, p);
  const forget = () => building.delete(dir);
  p.then(forget, forget);
  return p;

  async function build(): Promise<BuiltArtifact> {
    log?.(`${rel.fileName}: building (recipe ${key.slice(0, 16)})`);
    const built = await recipe.assemble(rel.version, { cacheRoot: root, mavenRepo: join(root, 'maven-repo'), log });
    const { resolved } = built;
    let sha512: string;
    if ('file' in built) {
      // one file is the release (a static binary): moved into the entry under the release's file name, mode kept
      await mkdir(dir, { recursive: true });
      const tmp = `${file}.tmp-${process.pid}`;
      await rename(built.file, tmp).catch(async () => {
        await copyFile(built.file, tmp);
        await rm(built.file, { force: true });
      });
      await chmod(tmp, built.mode ?? 0o755);
      await rename(tmp, file);
      sha512 = await fileDigest(file, 'sha512');
    } else {
      sha512 = await writeTgz(
        file,
        built.entries.map((e) => ({ ...e, path: `${rel.topDir}/${e.path}` })),
      );
    }
    const manifest: Manifest = { format: ARTIFACT_FORMAT, key, service: rel.service, version: rel.version, fileName: rel.fileName, sha512, resolved };
    await mkdir(dir, { recursive: true });
    const tmp = `${manifestFile}.tmp-${process.pid}`;
    await writeFile(tmp, JSON.stringify(manifest, null, 2) + '\n');
    await rename(tmp, manifestFile);
    log?.(`${rel.fileName}: built, ${(await stat(file)).size} bytes, sha512 ${sha512.slice(0, 16)}..`);
    return { ...base, sha512, cached: false, resolved };
  }
}

export interface ArtifactMirror {
  /** the base URL to give roles as `artifact_mirror` (ends with /) */
  url: string;
  /** requests served per path (`kafka/3.9.0/kafka_2.13-3.9.0.tgz`) */
  hits: Map<string, number>;
  close(): Promise<void>;
}

/** Serve artifacts on 127.0.0.1 (a free port) under their mirror paths; anything else is a 404. */
export async function serveArtifacts(artifacts: Array<Pick<BuiltArtifact, 'path' | 'file'>>): Promise<ArtifactMirror> {
  // keyed by the decoded path, as requests are looked up (Temurin's paths hold %2B)
  const files = new Map(artifacts.map((a) => [decodeURIComponent(`/${a.path}`), a.file]));
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = files.get(path);
    if (!file || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(file ? 405 : 404).end();
      return;
    }
    hits.set(path.slice(1), (hits.get(path.slice(1)) ?? 0) + 1);
    stat(file).then(
      (s) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': s.size });
        if (req.method === 'HEAD') res.end();
        else createReadStream(file).on('error', () => res.destroy()).pipe(res);
      },
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
