// Plans and scripts only: nothing is installed. The dpkg-query fact is read-only and runs for real.
import { describe, expect, it } from 'vitest';
import { packages } from '../../src/ops/packages.js';
import { gather } from './ops-harness.js';

const APT = 'DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600';

describe('packages (debian)', () => {
  const op = packages({ names: ['openjdk-17-jre-headless', 'curl', 'rsync'], osFamily: 'debian' });
  it('parses dpkg-query output', () => {
    const out = 'curl install ok installed\nrsync deinstall ok config-files\nLISTS|1\n';
    expect(op.fact!.parse(out, 1)).toEqual({ installed: ['curl'], listsPresent: true });
  });
  it('installs only the missing packages; apt-get update when lists are empty', () => {
    expect(op.plan({ installed: ['curl'], listsPresent: true })).toEqual({
      status: 'change',
      reason: 'install openjdk-17-jre-headless, rsync (apt-get update first if the lists are older than 1440 min)',
      script: `find /var/lib/apt/lists -maxdepth 1 -type f -name '*_Packages*' -mmin -1440 2>/dev/null | grep -q . || ${APT} update\n${APT} install -y --no-install-recommends openjdk-17-jre-headless rsync`,
    });
    expect(op.plan({ installed: ['curl'], listsPresent: false })).toEqual({
      status: 'change',
      reason: 'install openjdk-17-jre-headless, rsync (apt lists empty: apt-get update first)',
      script: `${APT} update\n${APT} install -y --no-install-recommends openjdk-17-jre-headless rsync`,
    });
    expect(op.plan({ installed: ['curl', 'rsync', 'openjdk-17-jre-headless'], listsPresent: false })).toEqual({
      status: 'ok',
      reason: 'installed: openjdk-17-jre-headless, curl, rsync',
    });
  });
  it('updateCache and aptProxy', () => {
    const p = packages({ names: ['curl'], osFamily: 'debian', updateCache: true, aptProxy: 'http://10.0.0.1:3142' });
    const apt = `${APT} -o Acquire::http::Proxy=http://10.0.0.1:3142`;
    expect(p.plan({ installed: [], listsPresent: true })).toEqual({
      status: 'change',
      reason: 'install curl (after apt-get update)',
      script: `${apt} update\n${apt} install -y --no-install-recommends curl`,
    });
  });
  it('noStart: the services are masked in /run for the install and unmasked after it, also when it fails', () => {
    const p = packages({ names: ['etcd-server'], osFamily: 'debian', updateCache: true, noStart: ['etcd'] });
    expect(p.plan({ installed: [], listsPresent: true })).toEqual({
      status: 'change',
      reason: 'install etcd-server (after apt-get update), not starting etcd.service',
      script: [
        `${APT} update`,
        'if [ -d /run/systemd/system ]; then systemctl mask --runtime etcd.service >/dev/null; fi',
        `rc=0; ${APT} install -y --no-install-recommends etcd-server || rc=$?`,
        'if [ -d /run/systemd/system ]; then systemctl unmask --runtime etcd.service >/dev/null; fi',
        '[ "$rc" = 0 ] || exit "$rc"',
      ].join('\n'),
    });
    expect(p.plan({ installed: ['etcd-server'], listsPresent: true })).toEqual({ status: 'ok', reason: 'installed: etcd-server' });
    expect(() => packages({ names: ['x'], osFamily: 'debian', noStart: ['a;b'] })).toThrow(/invalid unit name/);
  });
  it('absent', () => {
    const p = packages({ names: ['telnet', 'ftp'], osFamily: 'debian', state: 'absent' });
    expect(p.plan({ installed: ['ftp'], listsPresent: true })).toEqual({ status: 'change', reason: 'remove ftp', script: `${APT} remove -y ftp` });
    expect(p.plan({ installed: [], listsPresent: true })).toEqual({ status: 'ok', reason: 'not installed: telnet, ftp' });
  });
  it('real fact on this (Debian) machine', () => {
    const f = gather(packages({ names: ['dash', 'no-such-package-orch'], osFamily: 'debian' }).fact!);
    expect(f!.installed).toEqual(['dash']);
    expect(typeof f!.listsPresent).toBe('boolean');
  });
});

describe('packages (redhat)', () => {
  const op = packages({ names: ['java-17-openjdk-headless', 'curl'], osFamily: 'redhat' });
  it('parses rpm -q output', () => {
    expect(op.fact!.parse('package java-17-openjdk-headless is not installed\ncurl\n', 1)).toEqual({ installed: ['curl'], listsPresent: true });
  });
  it('plans dnf (yum fallback)', () => {
    expect(op.plan({ installed: ['curl'], listsPresent: true })).toEqual({
      status: 'change',
      reason: 'install java-17-openjdk-headless',
      script: 'if command -v dnf >/dev/null 2>&1; then dnf install -y java-17-openjdk-headless; else yum install -y java-17-openjdk-headless; fi',
    });
  });
});

describe('packages validation', () => {
  it('rejects bad names, empty lists; unknown OS fails at apply', () => {
    expect(() => packages({ names: ['-y'], osFamily: 'debian' })).toThrow(/invalid package name/);
    expect(() => packages({ names: ['a;b'], osFamily: 'debian' })).toThrow(/invalid package name/);
    expect(() => packages({ names: [], osFamily: 'debian' })).toThrow(/empty/);
    const u = packages({ names: ['curl'], osFamily: 'unknown' });
    expect(u.fact).toBeNull();
    expect(u.plan(null)).toMatchObject({ status: 'change', reason: 'unsupported OS family unknown: cannot manage packages curl' });
  });
});
