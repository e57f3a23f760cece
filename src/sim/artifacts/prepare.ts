/**
 * The artifacts of a simulation (sim.yml `artifacts:`), laid out as a mirror on the controller's disk for
 * `orch sim up`: each file linked under `<dir>/<its release path>`, and the variables that point the roles at it:
 *
 *   artifact_mirror: file://<dir>/          every role's release path is appended to it, as for an HTTP mirror
 *   <service>_sha512: ...                    a registry-built archive is not the release byte for byte
 *   java_archive_releases / java_archive_sha256   the Temurin JDK packed from this machine's
 *
 * Three kinds of entry, as the tests' mirror has (test/helpers/artifact-mirror.ts):
 *   - { service, version }: built from the package registries (./index.ts recipes: archives from Maven Central or
 *     PyPI, a static Go binary through the Go module proxy, e.g. { service: minio, version: RELEASE.2025-09-07T16-13-09Z }), cached;
 *   - { service, version, official: true }: the catalogue's release from its official URL, checked;
 *   - { jdk: N }: the newest Temurin JDK N+ of this machine (./jdk.ts).
 * The controller reads file:// mirrors itself (ops/artifact-cache.ts) and pushes to the hosts as usual: no server
 * has to outlive `orch sim up`.
 */
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { mkdir, rename, rm, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { officialUrl, release } from '../../artifacts/index.js';
import type { SimArtifactSpec } from '../../inventory/sim-file.js';
import { ensureCached } from '../../ops/artifact-cache.js';
import { goArch } from './go.js';
import { buildArtifact } from './index.js';
import { localTemurinArchive } from './jdk.js';

export type { SimArtifactSpec };

export interface PreparedArtifacts {
  /** the overlay variables (artifact_mirror, <service>_sha512, java_archive_*) */
  vars: Record<string, unknown>;
  /** one line per artifact, for the log */
  lines: string[];
}

/** `<dir>/<path>` -> `file`, replacing a link to something else */
async function place(dir: string, path: string, file: string): Promise<void> {
  const at = join(dir, decodeURIComponent(path));
  if (existsSync(at) && lstatSync(at).isSymbolicLink() && readlinkSync(at) === file) return;
  await mkdir(dirname(at), { recursive: true });
  const tmp = `${at}.tmp-${process.pid}`;
  await rm(tmp, { force: true });
  await symlink(file, tmp);
  await rename(tmp, at);
}

export async function prepareSimArtifacts(specs: SimArtifactSpec[], dir: string, log?: (s: string) => void): Promise<PreparedArtifacts> {
  const vars: Record<string, unknown> = {};
  const lines: string[] = [];
  if (!specs.length) return { vars, lines };
  await mkdir(dir, { recursive: true });
  for (const s of specs) {
    if ('jdk' in s) {
      const jdk = await localTemurinArchive(s.jdk, log);
      await place(dir, jdk.path, jdk.file);
      vars.java_archive_releases = [jdk.release];
      vars.java_archive_sha256 = jdk.sha256;
      lines.push(`Temurin ${jdk.release} (packed from this machine's JDK ${jdk.major})`);
    } else if (s.official) {
      // a release per architecture (etcd, MinIO): the controller's, which the simulated hosts run on
      const rel = release(s.service, s.version, goArch());
      const file = await ensureCached(officialUrl(rel), rel.sha512 ?? `sha256:${rel.sha256}`);
      await place(dir, rel.path, file);
      lines.push(`${s.service} ${s.version} (${rel.fileName} from ${officialUrl(rel)}, checksum checked)`);
    } else {
      const b = await buildArtifact({ service: s.service, version: s.version, log });
      await place(dir, b.path, b.file);
      for (const v of s.sha512Vars ?? [`${s.service.replace(/-/g, '_')}_sha512`]) vars[v] = b.sha512;
      lines.push(`${s.service} ${s.version} (built from the package registries${b.cached ? ', cached' : ''})`);
    }
  }
  vars.artifact_mirror = pathToFileURL(dir).href.replace(/\/?$/, '/');
  return { vars, lines };
}
