/**
 * One jar (or any single file) from a Maven repository, the way `ops.artifact` handles release archives: downloaded
 * once into the controller's artifact cache and verified there against a pinned sha256 (src/ops/artifact-cache.ts),
 * pushed to the host, verified again there (sha256sum) and moved into place, root-owned 0644. The fact is the host
 * file's sha256: a host that has the right bytes needs no download and no upload. `kind: 'artifact'` with
 * `prepare()`, so the runner's `prepareArtifacts` downloads it before the uploads, as it does for archives.
 *
 * (ops.artifact unpacks archives; a jar is to be kept whole, hence this small op beside it.)
 */
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { defaultCacheDir, ensureCached, q, type Operation, type Plan } from '../../src/ops/index.js';
import { fileFact, type FileFact } from '../../src/ops/file.js';
import { isRegular } from '../../src/ops/stat.js';

export interface MavenJar {
  groupId: string;
  artifactId: string;
  version: string;
  /** sha256 of the jar, pinned (Maven Central's `.sha256` where it publishes one, else computed and checked against its `.sha1`) */
  sha256: string;
}

/** `https://repo1.maven.org/maven2/` + `org/apache/hadoop/hadoop-aws/3.3.4/hadoop-aws-3.3.4.jar` */
export function mavenUrl(mirror: string, j: Pick<MavenJar, 'groupId' | 'artifactId' | 'version'>): string {
  const base = mirror.endsWith('/') ? mirror : `${mirror}/`;
  return `${base}${j.groupId.replaceAll('.', '/')}/${j.artifactId}/${j.version}/${j.artifactId}-${j.version}.jar`;
}

/** an Operation over the file's fact, with the `prepare()` the runner's prepareArtifacts calls for kind `artifact` */
export type JarOperation = Operation<FileFact> & { prepare(): Promise<void> };

export function jarFile(o: { url: string; sha256: string; dest: string; cacheDir?: string }): JarOperation {
  const sha = o.sha256.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(sha)) throw new Error(`jar ${o.url}: sha256 must be 64 hex digits`);
  const name = posix.basename(o.dest);
  const remote = `/var/tmp/.orch-jar-${sha.slice(0, 16)}-${randomBytes(4).toString('hex')}-${name}`;
  let local: string | undefined;
  const need = (f: FileFact) => f.sha256 !== sha || !f.stat || !isRegular(f.stat) || f.stat.owner !== 'root' || f.stat.mode !== 0o644;
  const script = [
    `f=${q(remote)}`,
    `s=$(sha256sum <"$f" | cut -c1-64)`,
    `if [ "$s" != ${sha} ]; then rm -f "$f"; printf '%s%s\\n' ${q(`orch: ${name}: sha256 mismatch on the host: expected ${sha}, got `)} "$s" >&2; exit 1; fi`,
    `mkdir -p ${q(posix.dirname(o.dest))}`,
    `chown root:root "$f"; chmod 0644 "$f"`,
    `mv -f "$f" ${q(o.dest)}`,
  ].join('\n');
  return {
    kind: 'artifact',
    name: o.dest,
    fact: fileFact(o.dest),
    plan(f: FileFact): Plan {
      if (!need(f)) return { status: 'ok', reason: `${name} in place (sha256 ${sha.slice(0, 12)}..)` };
      const why = !f.stat ? `download ${name} (sha256 ${sha.slice(0, 12)}..)` : f.sha256 !== sha ? `${o.dest} has sha256 ${(f.sha256 ?? 'none').slice(0, 12)}..: replace with ${sha.slice(0, 12)}..` : `${o.dest}: owner/mode to root 0644`;
      return { status: 'change', reason: why, script };
    },
    uploads(f: FileFact) {
      if (!need(f)) return [];
      if (!local) throw new Error(`jar ${name} for ${o.dest} is not downloaded: await prepareArtifacts(ops) before uploads()`);
      return [{ local, remote, mode: 0o600 }];
    },
    async prepare() {
      if (!local) local = await ensureCached(o.url, `sha256:${sha}`, o.cacheDir ?? defaultCacheDir());
    },
  };
}
