/** Host facts (OS family, user, resources), gathered once per host and run, in one round trip. */
import type { HostFacts } from '../role/define.js';
import type { Connection } from '../transport/types.js';

export const HOST_FACTS_SCRIPT = `export LC_ALL=C
. /etc/os-release 2>/dev/null
echo "id=\${ID:-unknown}"
echo "like=\${ID_LIKE:-}"
echo "version=\${VERSION_ID:-}"
echo "arch=$(uname -m)"
echo "user=$(id -un)"
echo "uid=$(id -u)"
echo "cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)"
echo "mem_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo 2>/dev/null)"
echo "hostname=$(hostname 2>/dev/null || cat /etc/hostname)"
[ "$(cat /proc/1/comm 2>/dev/null)" = systemd ] && echo systemd=1 || echo systemd=0
if [ -f /.dockerenv ] || [ -f /run/.containerenv ] || grep -qa container= /proc/1/environ 2>/dev/null; then echo container=1; else echo container=0; fi
`;

export function parseHostFacts(out: string): HostFacts {
  const kv: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) kv[line.slice(0, i)] = line.slice(i + 1);
  }
  const id = kv.id ?? 'unknown';
  const like = `${id} ${kv.like ?? ''}`;
  const osFamily = /debian|ubuntu/.test(like) ? 'debian' : /rhel|fedora|centos|rocky|almalinux/.test(like) ? 'redhat' : 'unknown';
  return {
    osFamily,
    osId: id,
    osVersion: kv.version ?? '',
    arch: kv.arch ?? '',
    user: kv.user ?? '',
    root: kv.uid === '0',
    cpus: Number(kv.cpus) || 1,
    memoryMb: Math.round((Number(kv.mem_kb) || 0) / 1024),
    hostname: kv.hostname ?? '',
    systemd: kv.systemd === '1',
    container: kv.container === '1',
  };
}

export async function gatherHostFacts(conn: Connection): Promise<HostFacts> {
  const r = await conn.runScript(HOST_FACTS_SCRIPT);
  if (r.code !== 0) throw new Error(`gathering host facts failed (exit ${r.code}): ${r.stderr.trim()}`);
  return parseHostFacts(r.stdout);
}
