/**
 * java: OpenJDK from the distribution (the seed: "OpenJDK 17 for all JVM-based services").
 * Exports `java_home` for the roles that depend on it.
 */
import { defineRole, type HostFacts } from '../../src/role/define.js';
import { v } from '../../src/role/vars.js';
import { ops } from '../../src/ops/index.js';

export function javaPackage(version: string, facts: Pick<HostFacts, 'osFamily'>, jdk: boolean): string {
  if (facts.osFamily === 'redhat') return `java-${version}-openjdk${jdk ? '-devel' : '-headless'}`;
  return `openjdk-${version}-${jdk ? 'jdk' : 'jre'}-headless`;
}

export function javaHome(version: string, facts: Pick<HostFacts, 'osFamily' | 'arch'>): string {
  if (facts.osFamily === 'redhat') return `/usr/lib/jvm/jre-${version}-openjdk`;
  const arch = { x86_64: 'amd64', aarch64: 'arm64', ppc64le: 'ppc64el', s390x: 's390x' }[facts.arch] ?? facts.arch;
  return `/usr/lib/jvm/java-${version}-openjdk-${arch}`;
}

export default defineRole({
  name: 'java',
  description: 'OpenJDK (headless) from the distribution; exports java_home',
  vars: {
    java_package_version: v.str({ default: '17', pattern: '^[0-9]+$', doc: 'OpenJDK major version' }),
    java_jdk: v.bool({ default: false, doc: 'install the JDK (compiler) instead of the JRE' }),
  },
  exports: ({ vars, host }) => ({ java_home: javaHome(vars.java_package_version, host.facts) }),
  operations({ vars, host }) {
    const home = javaHome(vars.java_package_version, host.facts);
    return [
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
  },
});
