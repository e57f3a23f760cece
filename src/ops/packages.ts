/**
 * `packages`: OS packages present or absent. Debian family: fact from `dpkg-query`, install with
 * `apt-get install -y --no-install-recommends` (after `apt-get update` when the package lists are empty
 * or `updateCache`), remove with `apt-get remove -y`. Red Hat family: fact from `rpm -q`, `dnf` (or
 * `yum` where there is no dnf). Only the missing (or present, for absent) packages are passed on.
 */
import type { HostFacts } from '../role/define.js';
import type { Fact, Operation, Plan } from './types.js';
import { argv, q } from './quote.js';
import { failScript } from './stat.js';

export interface PackagesOptions {
  names: string[];
  state?: 'present' | 'absent';
  osFamily: HostFacts['osFamily'];
  /** debian: run `apt-get update` before installing even when the lists are populated */
  updateCache?: boolean;
  /**
   * debian: before installing, refresh package lists older than this many seconds (default one day, like
   * Ansible's cache_valid_time): stale lists name package versions the mirror no longer has
   */
  cacheValidTime?: number;
  /** debian: HTTP proxy for apt, e.g. `http://10.0.0.1:3142` (apt-cacher-ng) */
  aptProxy?: string;
  /**
   * debian: services (unit names) the packages' maintainer scripts would start on install with the package's own
   * defaults (etcd-server starts a one-member cluster, zookeeperd a standalone server): masked for the install
   * (`systemctl mask --runtime`, in /run only) and unmasked after it, failed or not, so that the role starts them
   * itself once their configuration is written. The packages still enable them.
   */
  noStart?: string[];
}

export interface PackagesFact {
  installed: string[];
  /** debian: `/var/lib/apt/lists` holds package lists */
  listsPresent: boolean;
}

const PKG = /^[A-Za-z0-9][A-Za-z0-9+._-]*(:[a-z0-9_-]+)?$/;

function debianFact(names: string[]): Fact<PackagesFact> {
  return {
    key: `packages:debian:${[...names].sort().join(',')}`,
    command: [
      `dpkg-query -W -f='\${Package} \${Status}\\n' ${argv(...names)}`,
      `for f in /var/lib/apt/lists/*_Packages*; do if [ -e "$f" ]; then echo 'LISTS|1'; fi; break; done`,
    ].join('\n'),
    parse(stdout) {
      const installed = new Set<string>();
      let listsPresent = false;
      for (const line of stdout.split('\n')) {
        if (line === 'LISTS|1') listsPresent = true;
        const [pkg, , , status] = line.split(' ');
        if (status === 'installed') installed.add(pkg);
      }
      return { installed: names.filter((n) => installed.has(n.replace(/:.*$/, ''))), listsPresent };
    },
  };
}

function redhatFact(names: string[]): Fact<PackagesFact> {
  return {
    key: `packages:redhat:${[...names].sort().join(',')}`,
    // prints NAME per installed package, `package X is not installed` for the others
    command: `rpm -q --qf '%{NAME}\\n' ${argv(...names)}`,
    parse(stdout) {
      const lines = new Set(stdout.split('\n'));
      return { installed: names.filter((n) => lines.has(n)), listsPresent: true };
    },
  };
}

export function packages(o: PackagesOptions): Operation<PackagesFact | null> {
  const state = o.state ?? 'present';
  if (o.names.length === 0) throw new Error('packages: names is empty');
  for (const n of o.names) if (!PKG.test(n)) throw new Error(`packages: invalid package name ${JSON.stringify(n)}`);
  const names = [...new Set(o.names)];
  const name = names.join(', ');
  if (o.osFamily !== 'debian' && o.osFamily !== 'redhat') {
    return {
      kind: 'packages',
      name,
      fact: null,
      plan: () => ({
        status: 'change',
        reason: `unsupported OS family ${o.osFamily}: cannot manage packages ${name}`,
        script: failScript(`unsupported OS family ${o.osFamily}: cannot manage packages ${name}`),
      }),
    };
  }
  const debian = o.osFamily === 'debian';
  const held = (o.noStart ?? []).map((n) => (n.includes('.') ? n : `${n}.service`));
  for (const n of held) if (!/^[A-Za-z0-9:_.@-]+$/.test(n)) throw new Error(`packages: invalid unit name in noStart: ${JSON.stringify(n)}`);
  const proxy = o.aptProxy ? ` -o ${q(`Acquire::http::Proxy=${o.aptProxy}`)}` : '';
  const apt = `DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600${proxy}`;
  return {
    kind: 'packages',
    name,
    fact: debian ? debianFact(names) : redhatFact(names),
    plan(f): Plan {
      const have = new Set(f!.installed);
      if (state === 'present') {
        const missing = names.filter((n) => !have.has(n));
        if (!missing.length) return { status: 'ok', reason: `installed: ${name}` };
        if (debian) {
          const update = o.updateCache || !f!.listsPresent;
          const minutes = Math.max(1, Math.round((o.cacheValidTime ?? 86_400) / 60));
          const refresh = `find /var/lib/apt/lists -maxdepth 1 -type f -name '*_Packages*' -mmin -${minutes} 2>/dev/null | grep -q . || ${apt} update`;
          const install = `${apt} install -y --no-install-recommends ${argv(...missing)}`;
          const script = [
            update ? `${apt} update` : refresh,
            ...(held.length
              ? [
                  `if [ -d /run/systemd/system ]; then systemctl mask --runtime ${argv(...held)} >/dev/null; fi`,
                  `rc=0; ${install} || rc=$?`,
                  `if [ -d /run/systemd/system ]; then systemctl unmask --runtime ${argv(...held)} >/dev/null; fi`,
                  '[ "$rc" = 0 ] || exit "$rc"',
                ]
              : [install]),
          ].join('\n');
          const why = o.updateCache
            ? ' (after apt-get update)'
            : update
              ? ' (apt lists empty: apt-get update first)'
              : ` (apt-get update first if the lists are older than ${minutes} min)`;
          const hold = held.length ? `, not starting ${held.join(', ')}` : '';
          return { status: 'change', reason: `install ${missing.join(', ')}${why}${hold}`, script };
        }
        const script = `if command -v dnf >/dev/null 2>&1; then dnf install -y ${argv(...missing)}; else yum install -y ${argv(...missing)}; fi`;
        return { status: 'change', reason: `install ${missing.join(', ')}`, script };
      }
      const present = names.filter((n) => have.has(n));
      if (!present.length) return { status: 'ok', reason: `not installed: ${name}` };
      const script = debian
        ? `${apt} remove -y ${argv(...present)}`
        : `if command -v dnf >/dev/null 2>&1; then dnf remove -y ${argv(...present)}; else yum remove -y ${argv(...present)}; fi`;
      return { status: 'change', reason: `remove ${present.join(', ')}`, script };
    },
  };
}
