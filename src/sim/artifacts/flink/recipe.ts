/**
 * Apache Flink (Scala 2.12) in the layout of flink-<v>-bin-scala_2.12.tgz, from PyPI's two PyFlink source
 * distributions, which carry Flink's own binary distribution between them, plus the WordCount example from Maven
 * Central:
 *
 *   flink-<v>/lib/*.jar              apache-flink-libraries sdist deps/lib: flink-dist, table, connectors, log4j ...
 *   flink-<v>/opt/*.jar              apache-flink-libraries deps/opt (only flink-python and flink-sql-client there)
 *   flink-<v>/plugins/               apache-flink-libraries deps/plugins (metrics reporters, external-resource-gpu)
 *   flink-<v>/bin/bash-java-utils.jar  apache-flink-libraries deps/bin (what the scripts compute memory with)
 *   flink-<v>/bin/*                  apache-flink sdist deps/bin: Flink's scripts (config.sh, jobmanager.sh,
 *                                    taskmanager.sh, flink-console.sh, flink ...), no .bat
 *   flink-<v>/conf/*                 apache-flink sdist deps/conf: Flink's config.yaml, log4j*.properties, logback*.xml
 *   flink-<v>/examples/streaming/WordCount.jar   org.apache.flink:flink-examples-streaming:<v>:WordCount (Maven Central)
 *   flink-<v>/licenses/, LICENSE, NOTICE, ORCH-TEST-BUILD.txt
 *
 * apache-flink-libraries alone has no scripts and no conf/ (its bin/ holds bash-java-utils.jar only); the apache-flink
 * sdist has them. Both sdists are pinned by the sha256 PyPI's JSON API lists and downloaded once into the
 * test-artifact cache. The build fails if a class the scripts start is missing from lib/ or bin/.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureCached } from '../../../ops/index.js';
import { coordinate, jarEntries, resolveMaven } from '../maven.js';
import type { Recipe, RecipeContext } from '../recipe.js';
import { filesUnder, type TarEntry } from '../tgz.js';

interface Sdist {
  /** path under https://files.pythonhosted.org/packages/ */
  path: string;
  sha256: string;
}

/** the two sdists per Flink version, as PyPI's JSON API lists them */
export const FLINK_SDISTS: Record<string, { libraries: Sdist; pyflink: Sdist }> = {
  '1.20.0': {
    libraries: { path: '1f/31/80cfa34b6a53a5c19d66faf3e7d29cb0689a69c128a381e584863eb9669a/apache-flink-libraries-1.20.0.tar.gz', sha256: '808b381151c51d988c8fe5b5ae59d944d6e61d8193ee6832064f7ca14c88a583' },
    pyflink: { path: '37/85/830c518b8a80095c371d3af5143c90d51a21958f1d0c4095ce799445bcfe/apache-flink-1.20.0.tar.gz', sha256: '2f93ff09b911c484fda4c4cf0f175a609d73017ba63d7cb21bd59e53c56fd64b' },
  },
};

export const FLINK_VERSIONS = Object.keys(FLINK_SDISTS);

/** the classes the release's scripts start (or compute with): each must be in lib/ or bin/ */
export const FLINK_MAIN_CLASSES: Record<string, string> = {
  'bin/jobmanager.sh': 'org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint',
  'bin/taskmanager.sh': 'org.apache.flink.runtime.taskexecutor.TaskManagerRunner',
  'bin/flink': 'org.apache.flink.client.cli.CliFrontend',
  'bin/config.sh': 'org.apache.flink.runtime.util.bash.BashJavaUtils',
};

/** the example job: Flink's streaming WordCount, a jar of its own on Maven Central (classifier WordCount) */
export const wordCountCoordinate = (version: string) => `org.apache.flink:flink-examples-streaming:${version}:WordCount`;

const PYPI = 'https://files.pythonhosted.org/packages/';
export const sdistUrl = (s: Sdist) => PYPI + s.path;


function buildNote(version: string, wordCount: string): string {
  const s = FLINK_SDISTS[version];
  return [
    `Apache Flink ${version} (Scala 2.12) in the layout of flink-${version}-bin-scala_2.12.tgz, assembled by orch's test helper`,
    "(src/sim/artifacts/flink) from PyPI's PyFlink source distributions. NOT the Apache release archive:",
    `lib/, opt/, plugins/, licenses/ and bin/bash-java-utils.jar from ${sdistUrl(s.libraries)} (sha256 ${s.libraries.sha256});`,
    `bin/ scripts and conf/ from ${sdistUrl(s.pyflink)} (sha256 ${s.pyflink.sha256});`,
    `examples/streaming/WordCount.jar is ${wordCount} from Maven Central. All of it is Flink's own.`,
    '',
  ].join('\n');
}

export const flinkRecipe: Recipe = {
  service: 'flink',
  versions: FLINK_VERSIONS,
  inputs(version) {
    const s = FLINK_SDISTS[version];
    return { libraries: s.libraries, pyflink: s.pyflink, wordCount: wordCountCoordinate(version), mainClasses: FLINK_MAIN_CLASSES };
  },
  async assemble(version: string, ctx: RecipeContext) {
    const s = FLINK_SDISTS[version];
    if (!s) throw new Error(`no pinned PyFlink sdists for Flink ${version}`);
    ctx.log?.(`apache-flink-libraries-${version}.tar.gz and apache-flink-${version}.tar.gz from PyPI`);
    const libs = await ensureCached(sdistUrl(s.libraries), `sha256:${s.libraries.sha256}`, join(ctx.cacheRoot, 'pypi'));
    const py = await ensureCached(sdistUrl(s.pyflink), `sha256:${s.pyflink.sha256}`, join(ctx.cacheRoot, 'pypi'));
    const work = join(ctx.cacheRoot, `flink-${version}-sdist-${process.pid}`);
    await rm(work, { recursive: true, force: true });
    await mkdir(work, { recursive: true });
    const L = `apache-flink-libraries-${version}`;
    const P = `apache-flink-${version}`;
    execFileSync('tar', ['-xzf', libs, '-C', work, `${L}/deps`, `${L}/LICENSE`, `${L}/NOTICE`], { stdio: 'inherit' });
    execFileSync('tar', ['-xzf', py, '-C', work, `${P}/deps/bin`, `${P}/deps/conf`], { stdio: 'inherit' });
    const ld = join(work, L, 'deps');
    const pd = join(work, P, 'deps');

    const coord = wordCountCoordinate(version);
    const resolved = await resolveMaven([coord], { localRepo: ctx.mavenRepo, why: `the Flink ${version} test artifact (WordCount example)`, log: ctx.log });
    const wc = resolved.find((a) => coordinate(a) === coord);
    if (!wc) throw new Error(`flink ${version} test artifact: ${coord} not among what Maven resolved`);

    const classes = new Set<string>();
    for (const dir of [join(ld, 'lib'), join(ld, 'bin')]) {
      for (const j of readdirSync(dir).filter((f) => f.endsWith('.jar'))) for (const e of jarEntries(join(dir, j))) if (e.endsWith('.class')) classes.add(e);
    }
    const missing = Object.entries(FLINK_MAIN_CLASSES).filter(([, c]) => !classes.has(`${c.replaceAll('.', '/')}.class`));
    if (missing.length) throw new Error(`flink ${version} test artifact: classes not in lib/ or bin/: ${missing.map(([f, c]) => `${f} -> ${c}`).join(', ')}`);
    if (!jarEntries(wc.file).includes('org/apache/flink/streaming/examples/wordcount/WordCount.class')) throw new Error(`flink ${version} test artifact: ${coord} has no WordCount class`);

    const entries: TarEntry[] = [
      ...filesUnder(join(pd, 'bin'), 'bin', (n) => n.endsWith('.bat')),
      ...filesUnder(join(ld, 'bin'), 'bin'),
      ...filesUnder(join(pd, 'conf'), 'conf'),
      ...filesUnder(join(ld, 'lib'), 'lib'),
      ...filesUnder(join(ld, 'opt'), 'opt'),
      ...filesUnder(join(ld, 'plugins'), 'plugins'),
      ...filesUnder(join(ld, 'licenses'), 'licenses'),
      { path: 'examples/streaming/WordCount.jar', type: 'file', mode: 0o644, source: wc.file },
      { path: 'log/.keep', type: 'file', mode: 0o644, data: '' },
      { path: 'LICENSE', type: 'file', mode: 0o644, source: join(work, L, 'LICENSE') },
      { path: 'NOTICE', type: 'file', mode: 0o644, source: join(work, L, 'NOTICE') },
      { path: 'ORCH-TEST-BUILD.txt', type: 'file', mode: 0o644, data: buildNote(version, coord) },
    ];
    // the extracted sdists are needed until buildWith has written the archive (right after this returns)
    process.once('exit', () => execFileSync('rm', ['-rf', work]));
    const jars = readdirSync(join(ld, 'lib')).filter((f) => f.endsWith('.jar'));
    return {
      entries,
      resolved: [
        `pypi:apache-flink-libraries==${version} (sdist sha256 ${s.libraries.sha256})`,
        `pypi:apache-flink==${version} (sdist sha256 ${s.pyflink.sha256}: bin/, conf/)`,
        `maven:${coord}`,
        ...jars.map((j) => `lib/${j}`).sort(),
      ],
    };
  },
};
