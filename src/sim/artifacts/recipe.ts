/**
 * A recipe builds one service's release archive, in the release's own layout, from package registries.
 * Register new ones (Spark from PyPI's pyspark sdist, Flink from apache-flink-libraries, ...) in ./index.ts.
 */
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
  /** fetch from the registries and list the entries under the release's top directory */
  assemble(version: string, ctx: RecipeContext): Promise<{ entries: TarEntry[]; resolved: string[] }>;
}
