/** Release archives of the services roles install: the catalogue (official URL + pinned sha512) and the mirror rule. */
export { artifactSource, mirrorUrl, normaliseMirror, officialUrl, release, releases, temurinRelease, TEMURIN_ARCH } from './catalogue.js';
export type { ArtifactSourceOptions, Release } from './catalogue.js';
