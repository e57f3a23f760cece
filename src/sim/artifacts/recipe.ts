/**
 * A recipe builds one service's release archive, in the release's own layout, from package registries, or (for a
 * release that is one file, such as MinIO's static binary) that file. Register new ones in ./index.ts.
 */
import type { Release } from '../../artifacts/index.js';
import type { TarEntry } from './tgz.js';

export interface RecipeContext {
  /** the test-artifact cache root (`~/.cache/orch/test-artifacts`) */
  cacheRoot: string;
  /** Maven's local repository under the cache root: each jar is fetched once per machine */
  mavenRepo: string;
  log?: (s: string) => void;
}

export interface Recipe {
  service: string;
  /** versions it can build (each must be in the production catalogue, src/artifacts/) */
  versions: string[];
  /**
   * Everything the archive's bytes depend on besides the recipe format: pinned registry coordinates, the contents
   * of the files it adds, main classes... JSON; hashed into the cache key, so changing any of it rebuilds.
   */
  inputs(version: string): unknown;
  /**
   * The catalogue release it stands in for (default: `release(service, version)`); a platform-specific one (MinIO's
   * binary per architecture) names the architecture it builds for.
   */
  release?(version: string): Release;
  /**
   * Fetch from the registries and either list the entries under the release's top directory (packed as a reproducible
   * tar.gz), or give the one file that is the release (`file`: built in `ctx`'s cache, moved into the cache entry;
   * `mode` kept, default 0755).
   */
  assemble(version: string, ctx: RecipeContext): Promise<AssembledArchive | AssembledFile>;
}

export interface AssembledArchive {
  entries: TarEntry[];
  resolved: string[];
}

export interface AssembledFile {
  /** the built file on the controller (the cache takes it over: it is moved, not copied) */
  file: string;
  mode?: number;
  resolved: string[];
}
