import { describe, expect, it } from 'vitest';
import { artifactSource, mirrorUrl, normaliseMirror, officialUrl, release, releases, temurinRelease, TEMURIN_ARCH } from '../../src/artifacts/index.js';
import { artifactFileName } from '../../src/ops/artifact-cache.js';

const KAFKA_390 = '5324c1f44d4c84ea469712c2cc3d2d15545c3716edbb5353722df9c661fcc78b031fcf07d1c4f0309c5fdb32686665dfb0cffe55210cd3a1fe2a370538cb4e6d';

describe('artifact catalogue', () => {
  it('has Kafka 3.9.0 and 3.6.1 (Scala 2.13) with the official Apache URL, layout and pinned sha512', () => {
    const k = release('kafka', '3.9.0');
    expect(k).toMatchObject({
      service: 'kafka',
      version: '3.9.0',
      fileName: 'kafka_2.13-3.9.0.tgz',
      topDir: 'kafka_2.13-3.9.0',
      path: 'kafka/3.9.0/kafka_2.13-3.9.0.tgz',
      sha512: KAFKA_390,
    });
    expect(officialUrl(k)).toBe('https://archive.apache.org/dist/kafka/3.9.0/kafka_2.13-3.9.0.tgz');
    expect(officialUrl(release('kafka', '3.6.1'))).toBe('https://archive.apache.org/dist/kafka/3.6.1/kafka_2.13-3.6.1.tgz');
    expect(release('kafka', '3.6.1').sha512).toMatch(/^1f063cd67463dd3b[0-9a-f]{112}$/);
    expect(releases('kafka').map((r) => r.version)).toEqual(['3.9.0', '3.6.1']);
  });

  it('has etcd 3.5.16 from its GitHub release per architecture, pinned by the sha256 etcd publishes (no sha512)', () => {
    const e = release('etcd', '3.5.16', 'amd64');
    expect(e).toMatchObject({ service: 'etcd', version: '3.5.16', arch: 'amd64', fileName: 'etcd-v3.5.16-linux-amd64.tar.gz', topDir: 'etcd-v3.5.16-linux-amd64' });
    expect(officialUrl(e)).toBe('https://github.com/etcd-io/etcd/releases/download/v3.5.16/etcd-v3.5.16-linux-amd64.tar.gz');
    expect(e.sha256).toBe('b414b27a5ad05f7cb01395c447c85d3227e3fb1c176e51757a283b817f645ccc');
    expect(e.sha512).toBeUndefined();
    expect(artifactSource(e)).toEqual({ url: officialUrl(e), sha256: e.sha256, fileName: e.fileName });
    // a mirror keeps GitHub's path; a test build's sha512 replaces the pinned sha256
    expect(artifactSource(e, { mirror: 'http://127.0.0.1:1/', sha512: 'cd'.repeat(64) })).toEqual({
      url: 'http://127.0.0.1:1/v3.5.16/etcd-v3.5.16-linux-amd64.tar.gz',
      sha512: 'cd'.repeat(64),
      fileName: e.fileName,
    });
    expect(releases('etcd').map((r) => r.arch)).toEqual(['amd64', 'arm64', 'ppc64le']);
    expect(() => release('etcd', '3.5.16', 's390x')).toThrow('no release etcd 3.5.16 for architecture s390x in the artifact catalogue (architectures: amd64, arm64, ppc64le)');
    expect(() => release('etcd', '3.5.16')).toThrow(/for an unnamed architecture/);
    expect(() => release('etcd', '3.5.15', 'amd64')).toThrow('no release etcd 3.5.15 in the artifact catalogue (known: 3.5.16)');
  });

  it('has Apache ZooKeeper 3.8.4 (the -bin release) from the Apache archive, pinned by its sha256', () => {
    const z = release('zookeeper', '3.8.4');
    expect(officialUrl(z)).toBe('https://archive.apache.org/dist/zookeeper/zookeeper-3.8.4/apache-zookeeper-3.8.4-bin.tar.gz');
    expect(z).toMatchObject({ topDir: 'apache-zookeeper-3.8.4-bin', sha256: '284cb4675adb64794c63d95bf202d265cebddc0cda86ac86fb0ede8049de9187' });
    expect(mirrorUrl(z, 'https://mirror.example/apache/')).toBe('https://mirror.example/apache/zookeeper/zookeeper-3.8.4/apache-zookeeper-3.8.4-bin.tar.gz');
  });

  it('has Apache Spark 3.5.0 (bin-hadoop3) from the Apache archive with its sha512; 3.5.4 is not catalogued (no checksum found)', () => {
    const s = release('spark', '3.5.0');
    expect(officialUrl(s)).toBe('https://archive.apache.org/dist/spark/spark-3.5.0/spark-3.5.0-bin-hadoop3.tgz');
    expect(s).toMatchObject({ topDir: 'spark-3.5.0-bin-hadoop3', fileName: 'spark-3.5.0-bin-hadoop3.tgz' });
    expect(s.sha512).toMatch(/^8883c67e0a138069[0-9a-f]{112}$/);
    expect(() => release('spark', '3.5.4')).toThrow('no release spark 3.5.4 in the artifact catalogue (known: 3.5.0)');
  });

  it('has Trino 469 (sha256, as Homebrew pins it), 470 and 476 (sha512) as Maven Central publishes the server tarball', () => {
    const t = release('trino', '470');
    expect(t).toMatchObject({ service: 'trino', version: '470', fileName: 'trino-server-470.tar.gz', topDir: 'trino-server-470', path: 'io/trino/trino-server/470/trino-server-470.tar.gz' });
    expect(t.arch).toBeUndefined();
    expect(officialUrl(t)).toBe('https://repo1.maven.org/maven2/io/trino/trino-server/470/trino-server-470.tar.gz');
    expect(t.sha512).toBe('adcfa631f1181c7598bbca65412a3e1e53f25fbf3a5be1bc05ae13f5ef65028a38fe07a1783e7adb6c261822fb1eee651aed4d14c14960ca0406a1eed5ce4632');
    expect(t.sha256).toBeUndefined();
    // the seeds' 469: a sha256 only
    const s = release('trino', '469');
    expect(s.sha256).toBe('111933d897a7312c2b20eef1184203c180a28833add3c84367c2ca4fdb9b0e02');
    expect(s.sha512).toBeUndefined();
    expect(s.checksumSource).toContain('Homebrew');
    expect(artifactSource(s)).toEqual({ url: 'https://repo1.maven.org/maven2/io/trino/trino-server/469/trino-server-469.tar.gz', sha256: s.sha256, fileName: 'trino-server-469.tar.gz' });
    expect(release('trino', '476').sha512).toMatch(/^fe5e5b8cb2d71e8c[0-9a-f]{112}$/);
    expect(releases('trino').map((r) => r.version)).toEqual(['469', '470', '476']);
    // a mirror keeps Maven Central's path
    expect(mirrorUrl(t, 'https://nexus.example/repository/maven-central')).toBe('https://nexus.example/repository/maven-central/io/trino/trino-server/470/trino-server-470.tar.gz');
    expect(() => release('trino', '471')).toThrow('no release trino 471 in the artifact catalogue (known: 469, 470, 476)');
  });

  it('has Keycloak 26.0.7 (the distribution zip) and Nessie 0.99.0 (the runner jar) as Maven Central publishes them, by the sha512 of the downloads; Nessie 0.98.2 is not catalogued', () => {
    const k = release('keycloak', '26.0.7');
    expect(k).toMatchObject({ fileName: 'keycloak-quarkus-dist-26.0.7.zip', topDir: 'keycloak-26.0.7', path: 'org/keycloak/keycloak-quarkus-dist/26.0.7/keycloak-quarkus-dist-26.0.7.zip' });
    expect(officialUrl(k)).toBe('https://repo1.maven.org/maven2/org/keycloak/keycloak-quarkus-dist/26.0.7/keycloak-quarkus-dist-26.0.7.zip');
    expect(k.sha512).toMatch(/^65f779885aa41c8f[0-9a-f]{112}$/);
    expect(k.checksumSource).toContain('c5e65ce1d609ef083089914bcf3660cfe800ed4e');
    const n = release('nessie', '0.99.0');
    expect(officialUrl(n)).toBe('https://repo1.maven.org/maven2/org/projectnessie/nessie/nessie-quarkus/0.99.0/nessie-quarkus-0.99.0-runner.jar');
    expect(n.sha512).toMatch(/^7d78865f301db5ab[0-9a-f]{112}$/);
    expect(n.checksumSource).toContain('f68b1c0c69ef2a8b35d7c451d006a7bf2818048e');
    expect(() => release('nessie', '0.98.2')).toThrow('no release nessie 0.98.2 in the artifact catalogue (known: 0.99.0)');
  });

  it("has Eclipse Temurin 23.0.2+7 and 25.0.1+8 (x64, aarch64) from Adoptium's GitHub releases with their sha256", () => {
    const t = release('temurin', '23.0.2+7', 'x64');
    expect(t).toMatchObject({
      service: 'temurin',
      version: '23.0.2+7',
      arch: 'x64',
      fileName: 'OpenJDK23U-jdk_x64_linux_hotspot_23.0.2_7.tar.gz',
      topDir: 'jdk-23.0.2+7',
      sha256: '870ac8c05c6fe563e7a3878a47d0234b83c050e83651d2c47e8b822ec74512dd',
    });
    expect(officialUrl(t)).toBe('https://github.com/adoptium/temurin23-binaries/releases/download/jdk-23.0.2%2B7/OpenJDK23U-jdk_x64_linux_hotspot_23.0.2_7.tar.gz');
    expect(artifactFileName(officialUrl(t))).toBe(t.fileName);
    expect(release('temurin', '23.0.2+7', 'aarch64').sha256).toBe('fb43ae1202402842559cb6223886ec1663b90ffbec48479abbcb92c92c9012eb');
    expect(officialUrl(release('temurin', '25.0.1+8', 'x64'))).toBe('https://github.com/adoptium/temurin25-binaries/releases/download/jdk-25.0.1%2B8/OpenJDK25U-jdk_x64_linux_hotspot_25.0.1_8.tar.gz');
    expect(release('temurin', '25.0.1+8', 'x64').sha256).toBe('8daf77d1aacffe38c9889689bc224a13557de77559d9a5bb91991e6a298baa0d');
    expect(release('temurin', '25.0.1+8', 'aarch64').sha256).toBe('5c83b7d2121ed482fd06831a1eba1633dbab818aba6addddf48e075b97e6e9b8');
    expect(releases('temurin').map((r) => `${r.version} ${r.arch}`)).toEqual(['23.0.2+7 x64', '23.0.2+7 aarch64', '25.0.1+8 x64', '25.0.1+8 aarch64']);
    expect(() => release('temurin', '23.0.2+7', 'ppc64le')).toThrow('no release temurin 23.0.2+7 for architecture ppc64le in the artifact catalogue (architectures: x64, aarch64)');
    // Adoptium's names by the kernel's architecture
    expect(TEMURIN_ARCH).toMatchObject({ x86_64: 'x64', aarch64: 'aarch64' });
    // the layout for a release the catalogue lacks (its sha256 from the inventory), and a mirror keeping the path
    const other = temurinRelease('21.0.5+11', 'x64', 'AB'.repeat(32));
    expect(other).toMatchObject({ path: 'temurin21-binaries/releases/download/jdk-21.0.5%2B11/OpenJDK21U-jdk_x64_linux_hotspot_21.0.5_11.tar.gz', topDir: 'jdk-21.0.5+11', sha256: 'ab'.repeat(32) });
    expect(temurinRelease('21.0.5+11', 'x64').sha256).toBeUndefined();
    expect(() => temurinRelease('21.0.5', 'x64')).toThrow('Temurin release "21.0.5": expected a release name like 23.0.2+7');
    expect(mirrorUrl(t, 'http://127.0.0.1:1/adoptium/')).toBe('http://127.0.0.1:1/adoptium/temurin23-binaries/releases/download/jdk-23.0.2%2B7/OpenJDK23U-jdk_x64_linux_hotspot_23.0.2_7.tar.gz');
  });

  it('every entry is consistent: a sha512 (128 hex) or a sha256 (64 hex), file name = last path segment = top dir + extension (Temurin: jdk-<release>), unique', () => {
    const seen = new Set<string>();
    for (const r of releases()) {
      if (r.sha512 !== undefined) {
        expect(r.sha512).toMatch(/^[0-9a-f]{128}$/);
        expect(r.sha256).toBeUndefined();
      } else expect(r.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(artifactFileName(officialUrl(r))).toBe(r.fileName);
      expect(r.path.endsWith(`/${r.fileName}`)).toBe(true);
      // Adoptium's archives unpack to jdk-<release>/, whatever the file is called
      if (r.service === 'temurin') expect(r.topDir).toBe(`jdk-${r.version}`);
      // Keycloak's Maven Central zip (keycloak-quarkus-dist-V.zip) unpacks to keycloak-V/; Nessie's jar is one file
      else if (r.service === 'keycloak') expect(r.topDir).toBe(`keycloak-${r.version}`);
      else if (r.service === 'nessie') expect(r.topDir).toBe(`nessie-${r.version}`);
      // MinIO's binary is one file named minio.<release>, placed in minio-<release>/
      else if (r.service === 'minio') expect([r.fileName, r.topDir]).toEqual([`minio.${r.version}`, `minio-${r.version}`]);
      else expect(r.fileName.startsWith(r.topDir)).toBe(true);
      expect(r.base).toMatch(/^https:\/\/.*\/$/);
      expect(r.checksumSource).not.toBe('');
      const key = `${r.service} ${r.version} ${r.arch ?? ''}`;
      expect(seen.has(key)).toBe(false);
      seen.add(key);
    }
    // no two releases share a checksum (a copy-paste slip would)
    expect(new Set(releases().map((r) => r.sha512 ?? r.sha256)).size).toBe(releases().length);
  });

  it('an unknown version or service is an error naming what is known', () => {
    expect(() => release('kafka', '3.9.9')).toThrow('no release kafka 3.9.9 in the artifact catalogue (known: 3.9.0, 3.6.1)');
    expect(() => release('kafak', '3.9.0')).toThrow(/no release of kafak in the artifact catalogue \(services: etcd, flink, kafka, keycloak, minio, nessie, spark, temurin, trino, zookeeper\)/);
  });
});

describe('artifact_mirror', () => {
  const k = release('kafka', '3.9.0');

  it('replaces the official base and keeps the release path, with or without a trailing slash', () => {
    expect(mirrorUrl(k, 'http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080/kafka/3.9.0/kafka_2.13-3.9.0.tgz');
    expect(mirrorUrl(k, 'http://127.0.0.1:8080/')).toBe('http://127.0.0.1:8080/kafka/3.9.0/kafka_2.13-3.9.0.tgz');
    expect(mirrorUrl(k, 'https://mirror.example/apache')).toBe('https://mirror.example/apache/kafka/3.9.0/kafka_2.13-3.9.0.tgz');
    expect(mirrorUrl(k, 'file:///srv/mirror/')).toBe('file:///srv/mirror/kafka/3.9.0/kafka_2.13-3.9.0.tgz');
    // the file name ops.artifact caches under is the release's own
    expect(artifactFileName(mirrorUrl(k, 'https://mirror.example/apache/'))).toBe('kafka_2.13-3.9.0.tgz');
  });

  it('refuses what cannot be a base URL', () => {
    expect(() => normaliseMirror('mirror.example/apache')).toThrow(/is not a URL/);
    expect(() => normaliseMirror('ftp://mirror.example/')).toThrow(/unsupported scheme ftp:/);
    expect(() => normaliseMirror('https://mirror.example/?x=1')).toThrow(/no query or fragment/);
    expect(() => normaliseMirror('https://mirror.example/#top')).toThrow(/no query or fragment/);
    expect(() => normaliseMirror('https://u:secret@mirror.example/')).toThrow(/credentials/);
    expect(() => normaliseMirror('https://u:secret@mirror.example/')).not.toThrow(/secret/);
  });

  it('the default is the official URL with the pinned sha512; a mirror keeps the pinned sha512 unless one is given', () => {
    expect(artifactSource(k)).toEqual({ url: 'https://archive.apache.org/dist/kafka/3.9.0/kafka_2.13-3.9.0.tgz', sha512: KAFKA_390, fileName: 'kafka_2.13-3.9.0.tgz' });
    expect(artifactSource(k, { mirror: '' })).toEqual(artifactSource(k));
    expect(artifactSource(k, { mirror: 'https://mirror.example/apache/' })).toEqual({
      url: 'https://mirror.example/apache/kafka/3.9.0/kafka_2.13-3.9.0.tgz',
      sha512: KAFKA_390,
      fileName: 'kafka_2.13-3.9.0.tgz',
    });
    const built = 'AB'.repeat(64);
    expect(artifactSource(k, { mirror: 'http://127.0.0.1:1234', sha512: built }).sha512).toBe('ab'.repeat(64));
    expect(() => artifactSource(k, { sha512: 'abc' })).toThrow(/invalid sha512/);
  });
});
