/**
 * The artifacts of one test file, served to its roles as `artifact_mirror`: prepared (or taken from the cache)
 * before its tests, served on 127.0.0.1, closed after them. Three kinds:
 *   - `{ service, version }`: a registry-built archive (src/sim/artifacts recipes);
 *   - `{ service, version, official: true }`: the catalogue's own release, downloaded from its official URL (Maven
 *     Central: Trino, Nessie, Keycloak) and checked against the pinned checksum, as production gets it;
 *   - `{ jdk: N }`: a Temurin JDK N+ packed from this machine's (./artifacts/jdk.ts), for java_archive_releases.
 *
 *   const art = useArtifactMirror([{ service: 'kafka', version: '3.9.0' }, { jdk: 23 }]);
 *   ... vars: () => ({ artifact_mirror: art.url, kafka_sha512: art.sha512('kafka'), java_archive_releases: [art.jdk().release] })
 */
import { afterAll, beforeAll } from 'vitest';
import { officialUrl, release } from '../../src/artifacts/index.js';
import { ensureCached } from '../../src/ops/artifact-cache.js';
import { buildArtifact, serveArtifacts, type ArtifactMirror, type BuiltArtifact } from '../../src/sim/artifacts/index.js';
import { goArch } from '../../src/sim/artifacts/go.js';
import { localTemurinArchive, type LocalJdk } from '../../src/sim/artifacts/jdk.js';

export type ArtifactSpec = { service: string; version: string; official?: boolean } | { jdk: number };

export interface ArtifactMirrorHandle {
  /** the mirror's base URL (after beforeAll) */
  readonly url: string;
  /** the sha512 of the service's archive (the build's, or the catalogue's for an official release) */
  sha512(service: string): string;
  built(service: string): BuiltArtifact;
  /** the packed JDK (a `{ jdk }` spec) */
  jdk(): LocalJdk;
}

export function useArtifactMirror(specs: ArtifactSpec[]): ArtifactMirrorHandle {
  const sha = new Map<string, string>();
  const built = new Map<string, BuiltArtifact>();
  let jdk: LocalJdk | undefined;
  let mirror: ArtifactMirror | undefined;
  beforeAll(async () => {
    const served: Array<{ path: string; file: string }> = [];
    for (const s of specs) {
      if ('jdk' in s) {
        jdk = await localTemurinArchive(s.jdk, (m) => console.log(`[jdk artifact] ${m}`));
        served.push({ path: jdk.path, file: jdk.file });
      } else if (s.official) {
        const rel = release(s.service, s.version, goArch());
        const t0 = Date.now();
        const file = await ensureCached(officialUrl(rel), rel.sha512 ?? `sha256:${rel.sha256}`);
        console.log(`[${s.service} artifact] ${rel.fileName} from ${officialUrl(rel)}, checksum checked (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
        sha.set(s.service, rel.sha512 ?? '');
        served.push({ path: rel.path, file });
      } else {
        const b = await buildArtifact({ ...s, log: (m) => console.log(`[${s.service} artifact] ${m}`) });
        built.set(s.service, b);
        sha.set(s.service, b.sha512);
        served.push(b);
      }
    }
    mirror = await serveArtifacts(served);
  }, 600_000);
  afterAll(() => mirror?.close());
  const get = (service: string) => {
    const b = built.get(service);
    if (!b) throw new Error(`no ${service} artifact built for this file (built: ${[...built.keys()].join(', ') || 'none yet'})`);
    return b;
  };
  return {
    get url() {
      if (!mirror) throw new Error('the artifact mirror is not up yet (use it inside tests)');
      return mirror.url;
    },
    sha512: (service) => {
      const s = sha.get(service);
      if (s === undefined) throw new Error(`no ${service} artifact for this file`);
      return s;
    },
    built: get,
    jdk: () => {
      if (!jdk) throw new Error('no JDK for this file (a { jdk: N } spec, inside tests)');
      return jdk;
    },
  };
}
