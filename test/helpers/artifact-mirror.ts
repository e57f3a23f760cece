/**
 * Registry-built artifacts served to the roles of one test file: built (or taken from the cache) before its tests,
 * served on 127.0.0.1 as `artifact_mirror`, closed after them.
 *
 *   const art = useArtifactMirror([{ service: 'kafka', version: '3.9.0' }]);
 *   ... vars: () => ({ artifact_mirror: art.url, kafka_sha512: art.sha512('kafka') })
 */
import { afterAll, beforeAll } from 'vitest';
import { buildArtifact, serveArtifacts, type ArtifactMirror, type BuiltArtifact } from './artifacts/index.js';

export interface ArtifactMirrorHandle {
  /** the mirror's base URL (after beforeAll) */
  readonly url: string;
  /** the sha512 of the service's build */
  sha512(service: string): string;
  built(service: string): BuiltArtifact;
}

export function useArtifactMirror(specs: Array<{ service: string; version: string }>): ArtifactMirrorHandle {
  const built = new Map<string, BuiltArtifact>();
  let mirror: ArtifactMirror | undefined;
  beforeAll(async () => {
    for (const s of specs) built.set(s.service, await buildArtifact({ ...s, log: (m) => console.log(`[${s.service} artifact] ${m}`) }));
    mirror = await serveArtifacts([...built.values()]);
  });
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
    sha512: (service) => get(service).sha512,
    built: get,
  };
}
