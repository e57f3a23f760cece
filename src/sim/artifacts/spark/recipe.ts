/**
 * Apache Spark (built for Hadoop 3) in the layout of spark-<v>-bin-hadoop3.tgz, from PyPI's `pyspark` source
 * distribution, which carries Spark's own jars and launch scripts (pyspark-<v>/deps/):
 *
 *   spark-<v>-bin-hadoop3/jars/*.jar           deps/jars: Spark's jars (spark-core, -sql, ..., hadoop-client 3.3.4)
 *   spark-<v>-bin-hadoop3/bin/*                deps/bin: Spark's scripts (spark-class, spark-submit, load-spark-env.sh ...), no .cmd
 *   spark-<v>-bin-hadoop3/sbin/*               deps/sbin: spark-config.sh, spark-daemon.sh, start/stop-history-server.sh;
 *                                              plus start-master.sh, stop-master.sh, start-worker.sh, stop-worker.sh of
 *                                              this folder (not in the sdist): Apache's, rewritten to do the same
 *   spark-<v>-bin-hadoop3/python/lib/          lib/pyspark.zip and py4j-*-src.zip (what spark-submit puts on PYTHONPATH)
 *   spark-<v>-bin-hadoop3/examples/src/main/python/   deps/examples (pi.py ...)
 *   spark-<v>-bin-hadoop3/conf/*.template      this folder's stand-ins for the release's templates
 *   spark-<v>-bin-hadoop3/licenses/, RELEASE, ORCH-TEST-BUILD.txt
 *
 * The sdist is pinned by the sha256 PyPI's JSON API lists for it and downloaded once into the test-artifact cache.
 * The main classes the scripts start must be in jars/ before the archive is written.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { projectRoot } from '../../../core/project.js';
import { ensureCached } from '../../../ops/index.js';
import { jarEntries } from '../maven.js';
import type { Recipe, RecipeContext } from '../recipe.js';
import { filesUnder, type TarEntry } from '../tgz.js';

/** this folder in the source tree (its scripts are not compiled: dist/ reads them here too) */
const HERE = join(projectRoot, 'src', 'sim', 'artifacts', 'spark');

/** pyspark sdists on PyPI: path under https://files.pythonhosted.org/packages/ and sha256, as PyPI's JSON API lists them */
export const PYSPARK_SDISTS: Record<string, { path: string; sha256: string; hadoop: string }> = {
  '3.5.4': { path: '4e/18/6bb8c4e857122fc898f32336cb6e9e98415a7802c2a3738e907b4bd60953/pyspark-3.5.4.tar.gz', sha256: '1c2926d63020902163f58222466adf6f8016f6c43c1f319b8e7a71dbaa05fc51', hadoop: '3.3.4' },
  '3.5.0': { path: '92/11/5c0f24537fa68624cb6271d2a8a8982e81bd05f5cb51e9d2d2a89baa0e1a/pyspark-3.5.0.tar.gz', sha256: 'd41a9b76bd2aca370a6100d075c029e22ba44c5940927877e9435a3a9c566558', hadoop: '3.3.4' },
};

export const SPARK_VERSIONS = Object.keys(PYSPARK_SDISTS);

/** the classes the release's scripts start: each must be in jars/ */
export const SPARK_MAIN_CLASSES: Record<string, string> = {
  'sbin/start-master.sh': 'org.apache.spark.deploy.master.Master',
  'sbin/start-worker.sh': 'org.apache.spark.deploy.worker.Worker',
  'sbin/start-history-server.sh': 'org.apache.spark.deploy.history.HistoryServer',
  'bin/spark-class': 'org.apache.spark.launcher.Main',
  'bin/spark-submit': 'org.apache.spark.deploy.SparkSubmit',
};

export const sdistUrl = (version: string) => `https://files.pythonhosted.org/packages/${PYSPARK_SDISTS[version].path}`;

/** this folder's files as they go into the release (path under the top dir -> content, mode) */
export function sparkFiles(): Array<{ path: string; content: string; mode: number }> {
  const out: Array<{ path: string; content: string; mode: number }> = [];
  for (const d of ['sbin', 'conf']) {
    for (const f of readdirSync(join(HERE, d)).sort()) {
      const p = join(HERE, d, f);
      out.push({ path: `${d}/${f}`, content: readFileSync(p, 'utf8'), mode: statSync(p).mode & 0o111 ? 0o755 : 0o644 });
    }
  }
  return out;
}


function buildNote(version: string): string {
  const s = PYSPARK_SDISTS[version];
  return [
    `Apache Spark ${version} (Hadoop ${s.hadoop}) in the layout of spark-${version}-bin-hadoop3.tgz, assembled by orch's test helper`,
    '(src/sim/artifacts/spark) from PyPI\'s pyspark source distribution. NOT the Apache release archive:',
    `jars/, bin/, python/lib/ and most of sbin/ are Spark's own, from ${sdistUrl(version)}`,
    `(sha256 ${s.sha256}); sbin/start-master.sh, stop-master.sh, start-worker.sh, stop-worker.sh and the`,
    'conf/ templates are orch\'s (the sdist has none).',
    '',
  ].join('\n');
}

export const sparkRecipe: Recipe = {
  service: 'spark',
  versions: SPARK_VERSIONS,
  inputs(version) {
    return { sdist: sdistUrl(version), sha256: PYSPARK_SDISTS[version].sha256, files: sparkFiles(), mainClasses: SPARK_MAIN_CLASSES };
  },
  async assemble(version: string, ctx: RecipeContext) {
    const s = PYSPARK_SDISTS[version];
    if (!s) throw new Error(`no pinned pyspark sdist for Spark ${version}`);
    ctx.log?.(`pyspark-${version}.tar.gz from PyPI (sha256 ${s.sha256.slice(0, 12)}..)`);
    const sdist = await ensureCached(sdistUrl(version), `sha256:${s.sha256}`, join(ctx.cacheRoot, 'pypi'));
    const work = join(ctx.cacheRoot, `spark-${version}-sdist-${process.pid}`);
    await rm(work, { recursive: true, force: true });
    await mkdir(work, { recursive: true });
    const top = `pyspark-${version}`;
    execFileSync('tar', ['-xzf', sdist, '-C', work, `${top}/deps`, `${top}/lib`], { stdio: 'inherit' });
    const deps = join(work, top, 'deps');
    const jars = readdirSync(join(deps, 'jars')).filter((f) => f.endsWith('.jar'));
    const classes = new Set<string>();
    for (const j of jars) for (const e of jarEntries(join(deps, 'jars', j))) if (e.endsWith('.class')) classes.add(e);
    const missing = Object.entries(SPARK_MAIN_CLASSES).filter(([, c]) => !classes.has(`${c.replaceAll('.', '/')}.class`));
    if (missing.length) throw new Error(`spark ${version} test artifact: main classes not in the sdist's jars: ${missing.map(([f, c]) => `${f} -> ${c}`).join(', ')}`);
    const ours = sparkFiles();
    const libs = readdirSync(join(work, top, 'lib')).filter((f) => f.endsWith('.zip'));
    const entries: TarEntry[] = [
      ...filesUnder(join(deps, 'bin'), 'bin', (n) => n.endsWith('.cmd')),
      ...filesUnder(join(deps, 'sbin'), 'sbin', (n) => ours.some((o) => o.path === `sbin/${n}`)),
      ...ours.map((f) => ({ path: f.path, type: 'file' as const, mode: f.mode, data: f.content })),
      ...filesUnder(join(deps, 'jars'), 'jars'),
      ...filesUnder(join(deps, 'licenses'), 'licenses'),
      ...filesUnder(join(deps, 'examples'), 'examples/src/main/python'),
      ...libs.map((f) => ({ path: `python/lib/${f}`, type: 'file' as const, mode: 0o644, source: join(work, top, 'lib', f) })),
      { path: 'RELEASE', type: 'file', mode: 0o644, data: `Spark ${version} built for Hadoop ${s.hadoop} (orch test build from PyPI's pyspark sdist)\n` },
      { path: 'ORCH-TEST-BUILD.txt', type: 'file', mode: 0o644, data: buildNote(version) },
    ];
    // the extracted sdist is needed until buildWith has written the archive (right after this returns): removed
    // when the process exits
    process.once('exit', () => execFileSync('rm', ['-rf', work]));
    return { entries, resolved: [`pypi:pyspark==${version} (sdist sha256 ${s.sha256})`, ...jars.map((j) => `jars/${j}`).sort()] };
  },
};
