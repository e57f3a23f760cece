/**
 * The java role offline: the distribution's OpenJDK package and home on Debian and RHEL, and the Temurin JDKs from
 * Adoptium's release archives (java_archive_releases: the catalogue's URL and pinned sha256, or java_archive_sha256),
 * unpacked to /usr/lib/jvm/temurin-<release> behind /usr/lib/jvm/temurin-<major>; validate and the exported homes.
 */
import { describe, expect, it } from 'vitest';
import java, { javaHome, javaHomes, javaPackage, temurinArchive, temurinDir, temurinHome, temurinMajor } from '../../roles/java/index.js';
import type { HostFacts, RoleContext } from '../../src/role/define.js';
import type { Operation, Plan } from '../../src/ops/types.js';
import { defaultsOf, named, peer, roleContext, written } from './role-harness.js';

const T23_X64 = '870ac8c05c6fe563e7a3878a47d0234b83c050e83651d2c47e8b822ec74512dd';
const T23_AARCH64 = 'fb43ae1202402842559cb6223886ec1663b90ffbec48479abbcb92c92c9012eb';
const T23_URL = 'https://github.com/adoptium/temurin23-binaries/releases/download/jdk-23.0.2%2B7/OpenJDK23U-jdk_x64_linux_hotspot_23.0.2_7.tar.gz';

function ctx(o: { osFamily?: HostFacts['osFamily']; arch?: string; vars?: Record<string, unknown> } = {}): RoleContext<any> {
  return roleContext(java, { peers: [peer('vm4', '10.20.0.21', ['data_plane'])], facts: { osFamily: o.osFamily ?? 'debian', arch: o.arch ?? 'x86_64' }, vars: o.vars });
}
const opsOf = (c: RoleContext<any>) => java.operations(c) as Operation<any>[];
const fresh = (op: Operation<any> | undefined) => op!.plan({ marker: null, dest: null, link: {} }) as Extract<Plan, { status: 'change' }>;

describe('java: the distribution\'s OpenJDK', () => {
  it('defaults: OpenJDK 17 (the seed), the headless JRE, no archive', () => {
    expect(defaultsOf(java)).toEqual({ java_package_version: '17', java_jdk: false, java_archive_releases: [], java_archive_sha256: '', artifact_mirror: '' });
  });

  it('Debian: openjdk-N-jre-headless (or -jdk-headless), home per architecture', () => {
    expect(javaPackage('17', { osFamily: 'debian' }, false)).toBe('openjdk-17-jre-headless');
    expect(javaPackage('17', { osFamily: 'debian' }, true)).toBe('openjdk-17-jdk-headless');
    expect(javaHome('17', { osFamily: 'debian', arch: 'x86_64' })).toBe('/usr/lib/jvm/java-17-openjdk-amd64');
    expect(javaHome('17', { osFamily: 'debian', arch: 'aarch64' })).toBe('/usr/lib/jvm/java-17-openjdk-arm64');
    expect(javaHome('21', { osFamily: 'debian', arch: 'ppc64le' })).toBe('/usr/lib/jvm/java-21-openjdk-ppc64el');
    const list = opsOf(ctx());
    expect(list.map((o) => `${o.kind} ${o.name}`)).toEqual(['dir /usr/share/man/man1', 'packages openjdk-17-jre-headless', 'file /etc/profile.d/orch-java.sh']);
    expect(written(named(list, 'file', '/etc/profile.d/orch-java.sh'))).toBe('# Managed by orch (role java)\nexport JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64\n');
    expect(named(opsOf(ctx({ vars: { java_jdk: true, java_package_version: '21' } })), 'packages')!.name).toBe('openjdk-21-jdk-headless');
  });

  it('RHEL: java-N-openjdk-headless (or -devel), /usr/lib/jvm/jre-N-openjdk', () => {
    expect(javaPackage('17', { osFamily: 'redhat' }, false)).toBe('java-17-openjdk-headless');
    expect(javaPackage('21', { osFamily: 'redhat' }, true)).toBe('java-21-openjdk-devel');
    expect(javaHome('17', { osFamily: 'redhat', arch: 'x86_64' })).toBe('/usr/lib/jvm/jre-17-openjdk');
    const list = opsOf(ctx({ osFamily: 'redhat' }));
    expect(named(list, 'packages')!.name).toBe('java-17-openjdk-headless');
    expect(named(list, 'packages')!.fact!.command).toContain('rpm -q');
    expect(written(named(list, 'file', '/etc/profile.d/orch-java.sh'))).toContain('export JAVA_HOME=/usr/lib/jvm/jre-17-openjdk\n');
  });
});

describe('java: Temurin from its release archive', () => {
  it("java_archive_releases: an artifact op with Adoptium's URL and the pinned sha256, unpacked by release, linked by major", () => {
    const list = opsOf(ctx({ vars: { java_archive_releases: ['23.0.2+7'] } }));
    expect(list.map((o) => `${o.kind} ${o.name}`)).toEqual([
      'dir /usr/share/man/man1',
      'packages openjdk-17-jre-headless',
      'file /etc/profile.d/orch-java.sh',
      'artifact /usr/lib/jvm/temurin-23.0.2+7',
    ]);
    const p = fresh(named(list, 'artifact'));
    expect(p.reason).toBe('download OpenJDK23U-jdk_x64_linux_hotspot_23.0.2_7.tar.gz (sha256 870ac8c05c6f..) and unpack, /usr/lib/jvm/temurin-23: create link -> /usr/lib/jvm/temurin-23.0.2+7');
    expect(p.script).toContain(T23_URL);
    expect(p.script).toContain(T23_X64);
    expect(p.script).toContain('sha256sum <"$f"');
    // the JDK stays on JAVA_HOME of the package: the Temurin JDK is for the roles that ask for it
    expect(written(named(list, 'file', '/etc/profile.d/orch-java.sh'))).toContain('export JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64\n');
    expect(temurinDir('23.0.2+7')).toBe('/usr/lib/jvm/temurin-23.0.2+7');
    expect(temurinHome(23)).toBe('/usr/lib/jvm/temurin-23');
    expect(temurinMajor('23.0.2+7')).toBe(23);
    expect(temurinMajor('25+36')).toBe(25);
  });

  it('aarch64: the aarch64 archive with its own sha256; two releases give two ops', () => {
    const list = opsOf(ctx({ arch: 'aarch64', vars: { java_archive_releases: ['23.0.2+7', '25.0.1+8'] } }));
    const arts = list.filter((o) => o.kind === 'artifact');
    expect(arts.map((o) => o.name)).toEqual(['/usr/lib/jvm/temurin-23.0.2+7', '/usr/lib/jvm/temurin-25.0.1+8']);
    const p23 = fresh(arts[0]);
    expect(p23.script).toContain('https://github.com/adoptium/temurin23-binaries/releases/download/jdk-23.0.2%2B7/OpenJDK23U-jdk_aarch64_linux_hotspot_23.0.2_7.tar.gz');
    expect(p23.script).toContain(T23_AARCH64);
    const p25 = fresh(arts[1]);
    expect(p25.reason).toBe('download OpenJDK25U-jdk_aarch64_linux_hotspot_25.0.1_8.tar.gz (sha256 5c83b7d2121e..) and unpack, /usr/lib/jvm/temurin-25: create link -> /usr/lib/jvm/temurin-25.0.1+8');
    expect(p25.script).toContain('https://github.com/adoptium/temurin25-binaries/releases/download/jdk-25.0.1%2B8/OpenJDK25U-jdk_aarch64_linux_hotspot_25.0.1_8.tar.gz');
  });

  it('artifact_mirror replaces github.com/adoptium/ and keeps the release path (and the pinned sha256)', () => {
    const p = fresh(named(opsOf(ctx({ vars: { java_archive_releases: ['23.0.2+7'], artifact_mirror: 'https://mirror.example/adoptium' } })), 'artifact'));
    expect(p.script).toContain('https://mirror.example/adoptium/temurin23-binaries/releases/download/jdk-23.0.2%2B7/OpenJDK23U-jdk_x64_linux_hotspot_23.0.2_7.tar.gz');
    expect(p.script).not.toContain('https://github.com/');
    expect(p.script).toContain(T23_X64);
  });

  it('a release the catalogue lacks: a clear error without java_archive_sha256, Adoptium\'s layout with it', () => {
    expect(() => opsOf(ctx({ vars: { java_archive_releases: ['24.0.1+9'] } }))).toThrow(
      'java_archive_releases: Temurin 24.0.1+9 for x86_64 is not in the artifact catalogue (it has 23.0.2+7, 25.0.1+8): set java_archive_sha256 to the sha256 Adoptium publishes beside the archive',
    );
    // an architecture the catalogue has no build of
    expect(() => opsOf(ctx({ arch: 's390x', vars: { java_archive_releases: ['23.0.2+7'] } }))).toThrow(/Temurin 23.0.2\+7 for s390x is not in the artifact catalogue/);
    const sha = 'AB'.repeat(32);
    const list = opsOf(ctx({ vars: { java_archive_releases: ['24.0.1+9'], java_archive_sha256: sha } }));
    const p = fresh(named(list, 'artifact'));
    expect(named(list, 'artifact')!.name).toBe('/usr/lib/jvm/temurin-24.0.1+9');
    expect(p.reason).toBe('download OpenJDK24U-jdk_x64_linux_hotspot_24.0.1_9.tar.gz (sha256 abababababab..) and unpack, /usr/lib/jvm/temurin-24: create link -> /usr/lib/jvm/temurin-24.0.1+9');
    expect(p.script).toContain('https://github.com/adoptium/temurin24-binaries/releases/download/jdk-24.0.1%2B9/OpenJDK24U-jdk_x64_linux_hotspot_24.0.1_9.tar.gz');
    expect(temurinArchive('24.0.1+9', 'x86_64', sha)).toMatchObject({ topDir: 'jdk-24.0.1+9', sha256: 'ab'.repeat(32), checksumSource: 'the inventory (java_archive_sha256)' });
    expect(temurinArchive('24.0.1+9', 'x86_64')).toBeUndefined();
    // for a catalogued release the inventory's sha256 replaces the pinned one (a mirror serving other bytes)
    const own = fresh(named(opsOf(ctx({ vars: { java_archive_releases: ['23.0.2+7'], java_archive_sha256: 'cd'.repeat(32) } })), 'artifact'));
    expect(own.reason).toContain('(sha256 cdcdcdcdcdcd..)');
    expect(own.script).not.toContain(T23_X64);
  });
});

describe('java: validate', () => {
  it('one release per major version; java_archive_sha256 with exactly one release', () => {
    expect(java.validate!(ctx({ vars: { java_archive_releases: ['23.0.2+7', '25.0.1+8'] } }))).toEqual([]);
    expect(java.validate!(ctx({ vars: { java_archive_releases: ['23.0.2+7', '23.0.1+11'] } }))).toEqual([
      'java_archive_releases: two releases of Java 23 (23.0.2+7, 23.0.1+11): keep one per major version (they share /usr/lib/jvm/temurin-23)',
    ]);
    expect(java.validate!(ctx({ vars: { java_archive_releases: ['24.0.1+9'], java_archive_sha256: 'ab'.repeat(32) } }))).toEqual([]);
    expect(java.validate!(ctx({ vars: { java_archive_releases: ['23.0.2+7', '25.0.1+8'], java_archive_sha256: 'ab'.repeat(32) } }))).toEqual([
      'java_archive_sha256 names the sha256 of one archive: list exactly one release in java_archive_releases (it has 2)',
    ]);
    expect(java.validate!(ctx({ vars: { java_archive_sha256: 'ab'.repeat(32) } }))).toEqual([
      'java_archive_sha256 names the sha256 of one archive: list exactly one release in java_archive_releases (it has 0)',
    ]);
  });

  it('the variables\' patterns: a release name like 23.0.2+7, a 64-hex sha256', () => {
    const release = new RegExp((java.vars.java_archive_releases.schema as { items: { pattern: string } }).items.pattern);
    expect(['23.0.2+7', '25+36', '21.0.5+11'].every((r) => release.test(r))).toBe(true);
    expect(['23.0.2', 'jdk-23.0.2+7', '23.0.2_7', '23.0.2+7; rm -rf /'].some((r) => release.test(r))).toBe(false);
    const sha = new RegExp((java.vars.java_archive_sha256.schema as { pattern: string }).pattern);
    expect(sha.test('')).toBe(true);
    expect(sha.test(T23_X64)).toBe(true);
    expect(sha.test('ab'.repeat(64))).toBe(false);
  });
});

describe('java: exports', () => {
  it('java_home (the package\'s) and java_homes: major -> home of every JDK', () => {
    expect(java.exports!(ctx())).toEqual({ java_home: '/usr/lib/jvm/java-17-openjdk-amd64', java_homes: { '17': '/usr/lib/jvm/java-17-openjdk-amd64' } });
    expect(java.exports!(ctx({ vars: { java_archive_releases: ['23.0.2+7', '25.0.1+8'] } }))).toEqual({
      java_home: '/usr/lib/jvm/java-17-openjdk-amd64',
      java_homes: { '17': '/usr/lib/jvm/java-17-openjdk-amd64', '23': '/usr/lib/jvm/temurin-23', '25': '/usr/lib/jvm/temurin-25' },
    });
    expect(java.exports!(ctx({ osFamily: 'redhat', vars: { java_package_version: '21', java_archive_releases: ['23.0.2+7'] } }))).toEqual({
      java_home: '/usr/lib/jvm/jre-21-openjdk',
      java_homes: { '21': '/usr/lib/jvm/jre-21-openjdk', '23': '/usr/lib/jvm/temurin-23' },
    });
    expect(javaHomes('17', [], { osFamily: 'debian', arch: 'aarch64' })).toEqual({ '17': '/usr/lib/jvm/java-17-openjdk-arm64' });
  });
});
