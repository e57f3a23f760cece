/**
 * MinIO's server binary for the simulated hosts, built from source through the Go module proxy (./go.ts).
 *
 * Which source stands in for which release: the catalogue's (and the seeds') release is RELEASE.2025-09-07T16-13-09Z,
 * the official binary (src/artifacts/catalogue.ts, pinned by sha256). The Go module proxy does not serve that
 * release's commit (MinIO tags releases RELEASE.*, which are not semantic versions, so the proxy knows them only as
 * pseudo-versions, and it refuses the tag's commit 07c3a429 here: "not available"); the one pseudo-version it serves
 * of github.com/minio/minio is v0.0.0-20260212201848-7aac2a2c5b7c, the repository's last commit (2026-02-12, after
 * the release; MinIO archived the repository). That build is served to the minio role as the release's file, with its
 * own sha512 (minio_sha512), as the other registry builds are. It is newer code than the release: same command line,
 * environment variables, S3 API and health endpoints, which is what the role uses.
 */
import { goBinaryRecipe, type GoBuild } from './go.js';

export const MINIO_RELEASE = 'RELEASE.2025-09-07T16-13-09Z';

export const MINIO_BUILDS: Record<string, GoBuild> = {
  [MINIO_RELEASE]: {
    module: 'github.com/minio/minio',
    version: 'v0.0.0-20260212201848-7aac2a2c5b7c',
    binary: 'minio',
    standsInFor: `${MINIO_RELEASE} (official binary); the proxy serves no pseudo-version of the release's commit 07c3a429, only of the repository's last commit 7aac2a2c (2026-02-12)`,
  },
};

export const minioRecipe = goBinaryRecipe({ service: 'minio', builds: MINIO_BUILDS });
