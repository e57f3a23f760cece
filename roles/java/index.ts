/**
 * java: OpenJDK from the distribution (the seed: "OpenJDK 17 for all JVM-based services"), and beside it any Eclipse
 * Temurin JDKs installed from their release archives (`java_archive_releases`), for services whose Java is newer
 * than the distribution ships (Trino 469 needs Java 23; Debian 12 has 17, RHEL 9 has 21).
 * Exports `java_home` (the distribution's JDK) and `java_homes` (major version -> home, every JDK of the host).
 */
import { artifactSource, release, temurinRelease, TEMURIN_ARCH, type Release } from '../../src/artifacts/index.js';
import { defineRole, type HostFacts } from '../../src/role/define.js';
import { v } from '../../src/role/vars.js';
import { ops } from '../../src/ops/index.js';
import type { Operation } from '../../src/ops/types.js';

export function javaPackage(version: string, facts: Pick<HostFacts, 'osFamily'>, jdk: boolean): string {
  if (facts.osFamily === 'redhat') return `java-${version}-openjdk${jdk ? '-devel' : '-headless'}`;
  return `openjdk-${version}-${jdk ? 'jdk' : 'jre'}-headless`;
}

export function javaHome(version: string, facts: Pick<HostFacts, 'osFamily' | 'arch'>): string {
  if (facts.osFamily === 'redhat') return `/usr/lib/jvm/jre-${version}-openjdk`;
  const arch = { x86_64: 'amd64', aarch64: 'arm64', ppc64le: 'ppc64el', s390x: 's390x' }[facts.arch] ?? facts.arch;
  return `/usr/lib/jvm/java-${version}-openjdk-${arch}`;
}

/** A Temurin release name (`23.0.2+7`) and its major version. */
export const TEMURIN_RELEASE = '^[0-9]+(\\.[0-9]+)*\\+[0-9]+$';
export const temurinMajor = (release: string) => Number(release.split(/[.+]/)[0]);

/** where a Temurin release unpacks (`/usr/lib/jvm/temurin-23.0.2+7`) and the stable home linked to it per major */
export const temurinDir = (release: string) => `/usr/lib/jvm/temurin-${release}`;
export const temurinHome = (major: number) => `/usr/lib/jvm/temurin-${major}`;

/**
 * The archive of a Temurin release for a host's architecture: the catalogue's (Adoptium's URL and the pinned
 * sha256), or for a release it lacks Adoptium's URL with `sha256` from the inventory (undefined without one).
 */
export function temurinArchive(version: string, arch: string, sha256 = ''): Release | undefined {
  const tarch = TEMURIN_ARCH[arch] ?? arch;
  try {
    return release('temurin', version, tarch);
  } catch {
    if (!sha256) return undefined;
    return temurinRelease(version, tarch, sha256, 'the inventory (java_archive_sha256)') as Release;
  }
}

/** major -> JAVA_HOME of every JDK the role installs on a host */
export function javaHomes(packageVersion: string, archives: string[], facts: Pick<HostFacts, 'osFamily' | 'arch'>): Record<string, string> {
  const homes: Record<string, string> = { [String(Number(packageVersion))]: javaHome(packageVersion, facts) };
  for (const r of archives) homes[String(temurinMajor(r))] = temurinHome(temurinMajor(r));
  return homes;
}

/** The smallest JDK of at least `major` among a host's JDKs (the `java_homes` this role exports: major -> home). */
export function pickJavaHome(homes: Record<string, string>, major: number): string | undefined {
  const ok = Object.keys(homes)
    .map(Number)
    .filter((m) => m >= major)
    .sort((a, b) => a - b);
  return ok.length ? homes[String(ok[0])] : undefined;
}

const DOC = `
java: the distribution's OpenJDK (java_package_version, headless JRE or with java_jdk the JDK) with JAVA_HOME in
/etc/profile.d/orch-java.sh; exported to the JVM roles as java_home.

- java_archive_releases: Eclipse Temurin JDKs installed from Adoptium's release archives beside it, for services that
  need a newer Java than the distribution has (Trino 469: Java 23+). Each release unpacks to
  /usr/lib/jvm/temurin-<release> and /usr/lib/jvm/temurin-<major> links to it (a patch update relinks; dependent
  units name the link). The catalogue (src/artifacts) pins Adoptium's sha256 for 23.0.2+7 and 25.0.1+8 (x64, aarch64);
  another release needs java_archive_sha256 (one release per host then). artifact_mirror replaces github.com/adoptium/
  keeping Adoptium's path (air-gapped sites).
- Exports java_home (the package's) and java_homes: major version -> home, e.g. { 17: /usr/lib/jvm/java-17-openjdk-amd64,
  23: /usr/lib/jvm/temurin-23 }: a role needing Java N takes the smallest major >= N there (trino does).
`;

export default defineRole({
  name: 'java',
  doc: DOC,
  description: 'OpenJDK (headless) from the distribution, and Temurin JDKs from release archives; exports java_home and java_homes',
  vars: {
    java_package_version: v.str({ default: '17', pattern: '^[0-9]+$', doc: 'OpenJDK major version' }),
    java_jdk: v.bool({ default: false, doc: 'install the JDK (compiler) instead of the JRE' }),
    java_archive_releases: v.list<string>({ type: 'string', pattern: TEMURIN_RELEASE }, { default: [], doc: 'Eclipse Temurin releases to install from their archives besides the package, e.g. ["23.0.2+7"] (Trino 469 needs Java 23+)' }),
    java_archive_sha256: v.str({ default: '', pattern: '^(|[0-9a-fA-F]{64})$', emptyAllowed: true, doc: 'sha256 of the Temurin archive (a release the catalogue lacks, or a mirror serving other bytes); needs exactly one release' }),
    artifact_mirror: v.str({ default: '', emptyAllowed: true, doc: 'base URL that replaces https://github.com/adoptium/ (same release path); empty: the official URL' }),
  },
  validate: ({ vars }) => {
    const out: string[] = [];
    const majors = vars.java_archive_releases.map(temurinMajor);
    const dup = majors.find((m, i) => majors.indexOf(m) !== i);
    if (dup !== undefined) out.push(`java_archive_releases: two releases of Java ${dup} (${vars.java_archive_releases.filter((r) => temurinMajor(r) === dup).join(', ')}): keep one per major version (they share /usr/lib/jvm/temurin-${dup})`);
    if (vars.java_archive_sha256 && vars.java_archive_releases.length !== 1) out.push(`java_archive_sha256 names the sha256 of one archive: list exactly one release in java_archive_releases (it has ${vars.java_archive_releases.length})`);
    return out;
  },
  exports: ({ vars, host }) => ({
    java_home: javaHome(vars.java_package_version, host.facts),
    java_homes: javaHomes(vars.java_package_version, vars.java_archive_releases, host.facts),
  }),
  operations({ vars, host }) {
    const home = javaHome(vars.java_package_version, host.facts);
    const out: Operation<any>[] = [
      // OpenJDK's postinst links its man page into /usr/share/man/man1, which minimal images leave out
      ops.dir({ path: '/usr/share/man/man1', owner: 'root', group: 'root', mode: 0o755 }),
      ops.packages({ names: [javaPackage(vars.java_package_version, host.facts, vars.java_jdk)], osFamily: host.facts.osFamily }),
      ops.file({
        path: '/etc/profile.d/orch-java.sh',
        content: `# Managed by orch (role java)\nexport JAVA_HOME=${home}\n`,
        owner: 'root',
        group: 'root',
        mode: 0o644,
      }),
    ];
    for (const r of vars.java_archive_releases) {
      const rel = temurinArchive(r, host.facts.arch, vars.java_archive_sha256);
      if (!rel) {
        const known = ['23.0.2+7', '25.0.1+8'];
        throw new Error(`java_archive_releases: Temurin ${r} for ${host.facts.arch} is not in the artifact catalogue (it has ${known.join(', ')}): set java_archive_sha256 to the sha256 Adoptium publishes beside the archive`);
      }
      const src = artifactSource(rel, { mirror: vars.artifact_mirror || undefined, sha256: vars.java_archive_sha256 || undefined });
      out.push(
        ops.artifact({ url: src.url, ...(src.sha512 ? { sha512: src.sha512 } : { sha256: src.sha256! }), dest: temurinDir(r), link: temurinHome(temurinMajor(r)), stripComponents: 1 }),
      );
    }
    return out;
  },
});
