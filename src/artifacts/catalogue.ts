/**
 * The release archives roles install in production: per service and version, the official URL and the sha512
 * pinned in this repository (never fetched at run time: a changed upstream file must fail, not be trusted).
 *
 * `artifact_mirror` (a role variable): a base URL that replaces the official one, keeping the release's path under
 * it, the way Apache's mirrors lay out `dist/`: `https://archive.apache.org/dist/kafka/3.9.0/kafka_2.13-3.9.0.tgz`
 * with mirror `https://mirror.example/apache/` becomes `https://mirror.example/apache/kafka/3.9.0/kafka_2.13-3.9.0.tgz`.
 * A mirror serves the same bytes, so the pinned sha512 still applies unless a sha512 is given with it (tests serve
 * a registry-built archive of their own, see src/sim/artifacts/).
 */
import { normaliseSha256, normaliseSha512 } from '../ops/artifact-cache.js';

export interface Release {
  service: string;
  version: string;
  /** a platform-specific build: its architecture as the project names it (etcd: amd64, arm64, ppc64le) */
  arch?: string;
  /** where the official archive lives: `base` + `path` */
  base: string;
  /** the archive's path under `base` (and under any mirror), e.g. `kafka/3.9.0/kafka_2.13-3.9.0.tgz` */
  path: string;
  /** the archive's file name (last segment of `path`) */
  fileName: string;
  /** the single top-level directory the archive unpacks to, e.g. `kafka_2.13-3.9.0` */
  topDir: string;
  /** sha512 of the official archive, lowercase hex, pinned here (Apache publishes one per file) */
  sha512?: string;
  /** sha256, pinned instead where the project publishes no sha512 (etcd's SHA256SUMS) */
  sha256?: string;
  /** where the pinned sha512 was checked against */
  checksumSource: string;
}

/** The official URL of a release. */
export function officialUrl(r: Pick<Release, 'base' | 'path'>): string {
  return r.base + r.path;
}

const APACHE_ARCHIVE = 'https://archive.apache.org/dist/';

function kafka(version: string, scala: string, sha512: string, checksumSource: string): Release {
  const topDir = `kafka_${scala}-${version}`;
  const fileName = `${topDir}.tgz`;
  return {
    service: 'kafka',
    version,
    base: APACHE_ARCHIVE,
    path: `kafka/${version}/${fileName}`,
    fileName,
    topDir,
    sha512: normaliseSha512(sha512),
    checksumSource,
  };
}

// The sha512 values of Apache's archives, taken from projects that verify the download in their builds (Strimzi's
// kafka-versions.yaml, which its image build checks); this machine cannot reach archive.apache.org to compare them
// with Apache's own `<file>.sha512`. A wrong value fails the download loudly (ops.artifact names both hashes).
const RELEASES: Release[] = [
  kafka(
    '3.9.0',
    '2.13',
    '5324c1f44d4c84ea469712c2cc3d2d15545c3716edbb5353722df9c661fcc78b031fcf07d1c4f0309c5fdb32686665dfb0cffe55210cd3a1fe2a370538cb4e6d',
    'strimzi/strimzi-kafka-operator kafka-versions.yaml; the same value in two independent public install notes (sha512sum of the download)',
  ),
  kafka(
    '3.6.1',
    '2.13',
    '1f063cd67463dd3bb5a5e06e7a1c2278db84bfc836a634fac7c9a005de66a42ac00b32f5e9bbdd22086605f73659efd4ce5bd1185196b02a743be0898daac55d',
    'strimzi/strimzi-kafka-operator kafka-versions.yaml (one source only)',
  ),
];

/** etcd's GitHub release for Linux on one architecture (Go's names: amd64, arm64, ppc64le); etcd publishes SHA256SUMS. */
function etcd(version: string, arch: string, sha256: string, checksumSource: string): Release {
  const topDir = `etcd-v${version}-linux-${arch}`;
  const fileName = `${topDir}.tar.gz`;
  return {
    service: 'etcd',
    version,
    arch,
    base: 'https://github.com/etcd-io/etcd/releases/download/',
    path: `v${version}/${fileName}`,
    fileName,
    topDir,
    sha256: normaliseSha256(sha256),
    checksumSource,
  };
}

// etcd's sha256 values: the release's SHA256SUMS as Kubespray pins them (roles/kubespray_defaults checksums.yml,
// "make etcd 3.5.16 default", which its download step verifies); this machine cannot reach github.com to compare.
const KUBESPRAY_ETCD = 'kubernetes-sigs/kubespray checksums.yml (etcd_binary_checksums), verified by its downloads';
RELEASES.push(
  etcd('3.5.16', 'amd64', 'b414b27a5ad05f7cb01395c447c85d3227e3fb1c176e51757a283b817f645ccc', KUBESPRAY_ETCD),
  etcd('3.5.16', 'arm64', '8e68c55e6d72b791a9e98591c755af36f6f55aa9eca63767822cd8a3817fdb23', KUBESPRAY_ETCD),
  etcd('3.5.16', 'ppc64le', '33322806f4a2aa3d4947a4d42ec6a120296535e7f00e2f9d74e515e9386333e0', KUBESPRAY_ETCD),
);

/** Apache ZooKeeper's binary release (`-bin`: the jars, bin/ scripts and conf/ of the server). */
function zookeeper(version: string, sha: { sha512?: string; sha256?: string }, checksumSource: string): Release {
  const topDir = `apache-zookeeper-${version}-bin`;
  const fileName = `${topDir}.tar.gz`;
  return {
    service: 'zookeeper',
    version,
    base: APACHE_ARCHIVE,
    path: `zookeeper/zookeeper-${version}/${fileName}`,
    fileName,
    topDir,
    ...(sha.sha512 ? { sha512: normaliseSha512(sha.sha512) } : { sha256: normaliseSha256(sha.sha256!) }),
    checksumSource,
  };
}

// ZooKeeper 3.8.4, the last 3.8 release (the seeds: 3.8 / 3.7; Kafka 3.6.1 bundles 3.8.3). Apache publishes a
// sha512 per file, which no source reachable here repeats; the sha256 is pinned instead, as two independent
// public sources give it (Spack's zookeeper package, and an install script checking its downloads).
RELEASES.push(
  zookeeper(
    '3.8.4',
    { sha256: '284cb4675adb64794c63d95bf202d265cebddc0cda86ac86fb0ede8049de9187' },
    "spack/spack zookeeper package.py (version 3.8.4 sha256), and an independent install script's pinned list",
  ),
);

/** Apache Spark's binary release built for Hadoop 3 (`spark-V-bin-hadoop3.tgz`: bin/, sbin/, jars/, conf/, python/, examples/). */
function spark(version: string, sha512: string, checksumSource: string): Release {
  const topDir = `spark-${version}-bin-hadoop3`;
  const fileName = `${topDir}.tgz`;
  return { service: 'spark', version, base: APACHE_ARCHIVE, path: `spark/spark-${version}/${fileName}`, fileName, topDir, sha512: normaliseSha512(sha512), checksumSource };
}

// Spark 3.5.0 (spark-kafka-cluster-aws.md's version). Apache publishes spark-3.5.0-bin-hadoop3.tgz.sha512, which this
// machine cannot fetch; the value is the one a public Nix shell pins for that file (`fetchurl { sha512 }`, which fails
// on a mismatch; its comment names Apache's .sha512 as the source). One source only. Spark 3.5.4 (the datalyptica
// seeds' version) is not catalogued: no published sha512 or sha256 of its archive was found where this project can
// check (the spark role then asks for spark_sha512).
RELEASES.push(
  spark(
    '3.5.0',
    '8883c67e0a138069e597f3e7d4edbbd5c3a565d50b28644aad02856a1ec1da7cb92b8f80454ca427118f69459ea326eaa073cf7b1a860c3b796f4b07c2101319',
    "a public project's shell.nix (qbeast development shell: nix fetchurl of archive.apache.org's spark-3.5.0-bin-hadoop3.tgz with this sha512, copied from Apache's .sha512)",
  ),
);

/** Apache Flink's binary release for Scala 2.12 (`flink-V-bin-scala_2.12.tgz`: bin/, conf/, lib/, opt/, plugins/, examples/). */
function flink(version: string, sha: { sha512?: string; sha256?: string }, checksumSource: string): Release {
  const topDir = `flink-${version}`;
  const fileName = `flink-${version}-bin-scala_2.12.tgz`;
  return {
    service: 'flink',
    version,
    base: APACHE_ARCHIVE,
    path: `flink/flink-${version}/${fileName}`,
    fileName,
    topDir,
    ...(sha.sha512 ? { sha512: normaliseSha512(sha.sha512) } : { sha256: normaliseSha256(sha.sha256!) }),
    checksumSource,
  };
}

// Flink 1.20.0 (the seeds' version). Apache publishes flink-1.20.0-bin-scala_2.12.tgz.sha512, which no source
// reachable here repeats (apache/flink-docker's Dockerfiles check the GPG signature, not a hash); the sha256 is pinned
// instead, as two independent public sources give it: nixpkgs' flink package at 1.20.0 (fetchurl
// sha256-cI/VRMz53cDUsZL+A1eXzhbeLCbx12TFWQcwXv4UCvA=, which its builds verify) and a project's nix flake fetching
// downloads.apache.org's 1.20.0 archive with the same hash.
RELEASES.push(
  flink(
    '1.20.0',
    { sha256: '708fd544ccf9ddc0d4b192fe035797ce16de2c26f1d764c55907305efe140af0' },
    "nixpkgs pkgs/by-name/fl/flink/package.nix at version 1.20.0 (fetchurl SRI sha256), and an independent project's flake.nix fetching the same archive",
  ),
);

/** Trino's server tarball as Trino publishes it on Maven Central (`io.trino:trino-server:V`, packaging tar.gz). */
function trino(version: string, sha: { sha512?: string; sha256?: string }, checksumSource: string): Release {
  const topDir = `trino-server-${version}`;
  const fileName = `${topDir}.tar.gz`;
  return {
    service: 'trino',
    version,
    base: 'https://repo1.maven.org/maven2/',
    path: `io/trino/trino-server/${version}/${fileName}`,
    fileName,
    topDir,
    ...(sha.sha512 ? { sha512: normaliseSha512(sha.sha512) } : { sha256: normaliseSha256(sha.sha256!) }),
    checksumSource,
  };
}

// Trino 469 (the datalyptica seeds' version): Maven Central publishes only a .sha1 beside the tarball, and the
// registry this project checks against does not serve 469; the sha256 is the one Homebrew's trino formula pins for
// that URL (its install verifies it). One source only. 470 and 476: this project downloaded them from Maven Central,
// checked each against Maven Central's own .sha1 (f11973b6... and c9b38be4...) and pinned the sha512 of those bytes.
RELEASES.push(
  trino('469', { sha256: '111933d897a7312c2b20eef1184203c180a28833add3c84367c2ca4fdb9b0e02' }, 'Homebrew/homebrew-core Formula/t/trino.rb at 469 (sha256 of the Maven Central URL)'),
  trino(
    '470',
    { sha512: 'adcfa631f1181c7598bbca65412a3e1e53f25fbf3a5be1bc05ae13f5ef65028a38fe07a1783e7adb6c261822fb1eee651aed4d14c14960ca0406a1eed5ce4632' },
    'sha512sum of the Maven Central download, whose sha1 matched Maven Central trino-server-470.tar.gz.sha1 (f11973b628952b2d843cf0a7a9c84b7718af2f47)',
  ),
  trino(
    '476',
    { sha512: 'fe5e5b8cb2d71e8ccaccfc2acb60f88d43686a2a77b239bfd4fda6d2b0a5016e01f3bfad078954928de9b88f76b55023871c2b0efb83b609d9300906813ac7c2' },
    'sha512sum of the Maven Central download, whose sha1 matched Maven Central trino-server-476.tar.gz.sha1 (c9b38be4017ebd2f7095455aaac772fb40247ebe)',
  ),
);

/**
 * Keycloak's distribution zip as Keycloak publishes it on Maven Central (`org.keycloak:keycloak-quarkus-dist:V`,
 * packaging zip; the same server as the GitHub release's keycloak-V.zip), unpacking to keycloak-V/.
 */
function keycloak(version: string, sha512: string, checksumSource: string): Release {
  const topDir = `keycloak-${version}`;
  const fileName = `keycloak-quarkus-dist-${version}.zip`;
  return { service: 'keycloak', version, base: 'https://repo1.maven.org/maven2/', path: `org/keycloak/keycloak-quarkus-dist/${version}/${fileName}`, fileName, topDir, sha512: normaliseSha512(sha512), checksumSource };
}

// Keycloak 26.0.7 (the datalyptica seeds' version): Maven Central publishes a .sha1 beside the zip; this project
// downloaded it, checked it against that .sha1 and pinned the sha512 of those bytes.
RELEASES.push(
  keycloak(
    '26.0.7',
    '65f779885aa41c8f44c66d3d5f2d6b34a1bc10cadab324714e9b1c4b54db06937b1eba2c68c1fcd22efe04a3003939ec09777ef36dba307815cba0622935af52',
    'sha512sum of the Maven Central download, whose sha1 matched Maven Central keycloak-quarkus-dist-26.0.7.zip.sha1 (c5e65ce1d609ef083089914bcf3660cfe800ed4e)',
  ),
);

/**
 * Nessie's server as one runner jar on Maven Central (`org.projectnessie.nessie:nessie-quarkus:V`, classifier runner):
 * the file Nessie's release page links to. A single file, kept whole (ops.artifact with unpack: false); topDir is
 * the directory the role places it in.
 */
export function nessieRelease(version: string, sha512: string, checksumSource: string): Release {
  const fileName = `nessie-quarkus-${version}-runner.jar`;
  return { service: 'nessie', version, base: 'https://repo1.maven.org/maven2/', path: `org/projectnessie/nessie/nessie-quarkus/${version}/${fileName}`, fileName, topDir: `nessie-${version}`, sha512: normaliseSha512(sha512), checksumSource };
}

// Nessie 0.99.0: downloaded from Maven Central, checked against its .sha1 and the sha512 of those bytes pinned. The
// seeds' 0.98.2 is not catalogued: the registry reachable here does not serve it (nor its .sha1) and no published
// checksum of its runner jar was found where this project can check; the nessie role then asks for nessie_sha512.
RELEASES.push(
  nessieRelease(
    '0.99.0',
    '7d78865f301db5ab4e771fc08e1f773889322ea105757de711e8cf2fc260ffff89bac723523858f539605fd6dcb92e773e9dfed8c5b73181a54572cf6fe5b2e2',
    'sha512sum of the Maven Central download, whose sha1 matched Maven Central nessie-quarkus-0.99.0-runner.jar.sha1 (f68b1c0c69ef2a8b35d7c451d006a7bf2818048e)',
  ),
);

/**
 * MinIO's server as MinIO published it: one static binary per architecture (Go's names: amd64, arm64), named after
 * its release tag, under dl.min.io's archive (`server/minio/release/linux-amd64/archive/minio.RELEASE...`). Kept
 * whole (ops.artifact with unpack: false, mode 0755); topDir is the directory the role places it in.
 */
export function minioRelease(version: string, arch: string, sha: { sha256: string } | { sha512: string }, checksumSource: string): Release {
  const fileName = `minio.${version}`;
  return {
    service: 'minio',
    version,
    arch,
    base: 'https://dl.min.io/',
    path: `server/minio/release/linux-${arch}/archive/${fileName}`,
    fileName,
    topDir: `minio-${version}`,
    ...('sha256' in sha ? { sha256: normaliseSha256(sha.sha256) } : { sha512: normaliseSha512(sha.sha512) }),
    checksumSource,
  };
}

// MinIO RELEASE.2025-09-07T16-13-09Z (vps-trio-resource-analysis.md's minio/minio:RELEASE.2025-09-07; this tag is the
// release of that day). MinIO publishes a .sha256sum beside each binary, which this machine cannot fetch; the values
// are the ones several independent public projects pin for these URLs and check in their builds (install scripts and
// Dockerfiles running sha256sum -c; one extracted the same bytes from the official image's layer). MinIO has since
// stopped publishing binaries and archived its repository, and public reports say dl.min.io now answers 410 for old
// releases: an operator may have to serve a kept copy through artifact_mirror (the same bytes pass the same sha256).
// Tests here run a source build instead (src/sim/artifacts/minio.ts says which).
const MINIO_PINS = 'sha256 pinned for this dl.min.io URL by several independent public install scripts and Dockerfiles that verify it (sha256sum -c)';
RELEASES.push(
  minioRelease('RELEASE.2025-09-07T16-13-09Z', 'amd64', { sha256: '7c5bd8512c6e966455b1d198209358b2d191c77a83ab377c4073281065fb855f' }, MINIO_PINS),
  minioRelease('RELEASE.2025-09-07T16-13-09Z', 'arm64', { sha256: '5c83cd2cf151717ba0243f73e1c7802ff36e272b67144bdd7f1f7d684fd6f03d' }, `${MINIO_PINS} (arm64: two of them)`),
);

/** Eclipse Temurin's architecture names in its archive names (x64, aarch64 ...), by the kernel's (uname -m). */
export const TEMURIN_ARCH: Record<string, string> = { x86_64: 'x64', aarch64: 'aarch64', ppc64le: 'ppc64le', s390x: 's390x' };

/**
 * Eclipse Temurin's JDK archive for Linux, as Adoptium publishes it on GitHub: release `23.0.2+7` of architecture
 * `x64` is temurin23-binaries/releases/download/jdk-23.0.2%2B7/OpenJDK23U-jdk_x64_linux_hotspot_23.0.2_7.tar.gz,
 * unpacking to jdk-23.0.2+7/. Adoptium publishes a sha256 per file.
 */
export function temurinRelease(version: string, arch: string, sha256?: string, checksumSource = 'the inventory'): Omit<Release, 'sha256'> & { sha256?: string } {
  const m = /^([0-9]+)(\.[0-9]+)*\+[0-9]+$/.exec(version);
  if (!m) throw new Error(`Temurin release ${JSON.stringify(version)}: expected a release name like 23.0.2+7`);
  const major = m[1];
  const underscore = version.replace('+', '_');
  const fileName = `OpenJDK${major}U-jdk_${arch}_linux_hotspot_${underscore}.tar.gz`;
  return {
    service: 'temurin',
    version,
    arch,
    base: 'https://github.com/adoptium/',
    path: `temurin${major}-binaries/releases/download/jdk-${version.replace('+', '%2B')}/${fileName}`,
    fileName,
    topDir: `jdk-${version}`,
    ...(sha256 ? { sha256: normaliseSha256(sha256) } : {}),
    checksumSource,
  };
}

// Temurin's sha256 values as the official eclipse-temurin container images pin them (docker-library's Dockerfiles,
// ESUM per architecture, checked by their builds); 23.0.2+7's also in an independent project's pinned table.
const TEMURIN_IMAGES = 'docker-library eclipse-temurin Dockerfile (ESUM per architecture, verified by the image build)';
RELEASES.push(
  temurinRelease('23.0.2+7', 'x64', '870ac8c05c6fe563e7a3878a47d0234b83c050e83651d2c47e8b822ec74512dd', `${TEMURIN_IMAGES}; an independent project's pinned JDK table`) as Release,
  temurinRelease('23.0.2+7', 'aarch64', 'fb43ae1202402842559cb6223886ec1663b90ffbec48479abbcb92c92c9012eb', `${TEMURIN_IMAGES}; an independent project's pinned JDK table`) as Release,
  temurinRelease('25.0.1+8', 'x64', '8daf77d1aacffe38c9889689bc224a13557de77559d9a5bb91991e6a298baa0d', TEMURIN_IMAGES) as Release,
  temurinRelease('25.0.1+8', 'aarch64', '5c83b7d2121ed482fd06831a1eba1633dbab818aba6addddf48e075b97e6e9b8', TEMURIN_IMAGES) as Release,
);

/** Every catalogued release, optionally of one service, in catalogue order. */
export function releases(service?: string): Release[] {
  return RELEASES.filter((r) => service === undefined || r.service === service);
}

/**
 * The catalogued release of `service` at `version` (for a platform-specific build, of architecture `arch`); an error
 * naming the known versions (architectures) otherwise.
 */
export function release(service: string, version: string, arch?: string): Release {
  const found = RELEASES.find((r) => r.service === service && r.version === version && (r.arch === undefined || r.arch === arch));
  if (found) return found;
  const builds = RELEASES.filter((r) => r.service === service && r.version === version && r.arch !== undefined);
  if (builds.length) {
    throw new Error(`no release ${service} ${version} for ${arch === undefined ? 'an unnamed architecture' : `architecture ${arch}`} in the artifact catalogue (architectures: ${builds.map((r) => r.arch).join(', ')})`);
  }
  const known = [...new Set(releases(service).map((r) => r.version))];
  if (!known.length) {
    const services = [...new Set(RELEASES.map((r) => r.service))].sort();
    throw new Error(`no release of ${service} in the artifact catalogue (services: ${services.join(', ')})`);
  }
  throw new Error(`no release ${service} ${version} in the artifact catalogue (known: ${known.join(', ')})`);
}

/**
 * A mirror base URL, checked and normalised to end with `/`: http, https or file, no query or fragment
 * (the release path is appended to it).
 */
export function normaliseMirror(mirror: string): string {
  let u: URL;
  try {
    u = new URL(mirror.trim());
  } catch {
    throw new Error(`artifact_mirror ${JSON.stringify(mirror)} is not a URL (expected e.g. https://mirror.example/apache/)`);
  }
  if (!['http:', 'https:', 'file:'].includes(u.protocol)) {
    throw new Error(`artifact_mirror ${mirror}: unsupported scheme ${u.protocol} (http, https or file)`);
  }
  if (u.search || u.hash || mirror.includes('?') || mirror.includes('#')) {
    throw new Error(`artifact_mirror ${mirror}: a base URL takes no query or fragment (the release path is appended to it)`);
  }
  if (u.username || u.password) throw new Error(`artifact_mirror ${u.protocol}//${u.host}...: credentials do not belong in the URL`);
  const s = u.href;
  return s.endsWith('/') ? s : `${s}/`;
}

/** The URL of a release under a mirror: the mirror base + the release's own path. */
export function mirrorUrl(r: Pick<Release, 'path'>, mirror: string): string {
  return normaliseMirror(mirror) + r.path;
}

export interface ArtifactSourceOptions {
  /** `artifact_mirror`: empty or undefined for the official URL */
  mirror?: string;
  /** a sha512 overriding the pinned one (an archive that is not the official one, e.g. a test build) */
  sha512?: string;
  /** a sha256 overriding the pinned one */
  sha256?: string;
}

/** What `ops.artifact` gets for a release: the official URL and pinned sha512 unless a mirror (and sha512) is given. */
export function artifactSource(r: Release, o: ArtifactSourceOptions = {}): { url: string; sha512?: string; sha256?: string; fileName: string } {
  const url = o.mirror ? mirrorUrl(r, o.mirror) : officialUrl(r);
  if (o.sha512) return { url, sha512: normaliseSha512(o.sha512), fileName: r.fileName };
  if (o.sha256) return { url, sha256: normaliseSha256(o.sha256), fileName: r.fileName };
  return { url, ...(r.sha512 ? { sha512: r.sha512 } : { sha256: r.sha256 }), fileName: r.fileName };
}
