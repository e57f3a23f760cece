/**
 * Host facts (OS family, user, resources), gathered once per host and run, in one round trip.
 * Memory and CPUs are what the host's processes may use: a container's or cgroup's limit when lower than the
 * machine's (cgroup v2 `memory.max` / `cpu.max`, v1 `memory.limit_in_bytes` / `cpu.cfs_quota_us`, read along the
 * cgroup of PID 1 up to the root), the machine's otherwise (kept as `machineMemoryMb` / `machineCpus`).
 */
import type { HostFacts } from '../role/define.js';
import type { Connection } from '../transport/types.js';

/**
 * cgroup limits along PID 1's cgroup (in a container: the container's; on a VM: init.scope, none) up to the
 * root: `cg2_mem=` memory.max, `cg2_cpu=` cpu.max (quota period), `cg1_mem=`, `cg1_cpu=` (cfs quota) / `cg1_period=`.
 */
export const CGROUP_LIMITS = `_orch_walk() { # root path files...: prints KEY=value for each file found from root+path up to root
  _orch_root=$1; _orch_d=$1$2; shift 2
  while :; do
    for _orch_f in "$@"; do
      if [ -r "$_orch_d/\${_orch_f#*:}" ] && read -r _orch_v < "$_orch_d/\${_orch_f#*:}"; then echo "\${_orch_f%%:*}=$_orch_v"; fi
    done
    case $_orch_d in "$_orch_root"/*) _orch_d=\${_orch_d%/*} ;; *) break ;; esac
  done
}
_orch_p=; while IFS= read -r _orch_l; do case $_orch_l in 0::*) _orch_p=\${_orch_l#0::} ;; esac; done < /proc/1/cgroup 2>/dev/null
_orch_walk /sys/fs/cgroup "\${_orch_p%/}" cg2_mem:memory.max cg2_cpu:cpu.max
if [ -d /sys/fs/cgroup/memory ]; then
  _orch_p=$(sed -n 's/^[0-9]*:\\([^:]*,\\)\\{0,1\\}memory\\(,[^:]*\\)\\{0,1\\}://p' /proc/1/cgroup 2>/dev/null)
  _orch_walk /sys/fs/cgroup/memory "\${_orch_p%/}" cg1_mem:memory.limit_in_bytes
fi
if [ -d /sys/fs/cgroup/cpu ]; then
  _orch_p=$(sed -n 's/^[0-9]*:\\([^:]*,\\)\\{0,1\\}cpu\\(,[^:]*\\)\\{0,1\\}://p' /proc/1/cgroup 2>/dev/null)
  _orch_walk /sys/fs/cgroup/cpu "\${_orch_p%/}" cg1_cpu:cpu.cfs_quota_us cg1_period:cpu.cfs_period_us
fi
`;

/** Shell builtins (`read`, `case`) where a process is not needed: the script runs on every host at every run. */
export const HOST_FACTS_SCRIPT = `export LC_ALL=C
. /etc/os-release 2>/dev/null
echo "id=\${ID:-unknown}"
echo "like=\${ID_LIKE:-}"
echo "version=\${VERSION_ID:-}"
echo "arch=$(uname -m)"
echo "user=$(id -un)"
echo "uid=$(id -u)"
echo "cpus=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)"
while read -r _orch_k _orch_v _orch_r; do if [ "$_orch_k" = MemTotal: ]; then echo "mem_kb=$_orch_v"; break; fi; done < /proc/meminfo 2>/dev/null
${CGROUP_LIMITS}if read -r _orch_v < /proc/sys/kernel/hostname 2>/dev/null; then echo "hostname=$_orch_v"; else echo "hostname=$(hostname 2>/dev/null || cat /etc/hostname)"; fi
_orch_v=; read -r _orch_v < /proc/1/comm 2>/dev/null; [ "$_orch_v" = systemd ] && echo systemd=1 || echo systemd=0
if [ -f /.dockerenv ] || [ -f /run/.containerenv ] || grep -qa container= /proc/1/environ 2>/dev/null; then echo container=1; else echo container=0; fi
`;

export function parseHostFacts(out: string): HostFacts {
  const kv: Record<string, string> = {};
  const limits: Record<string, string[]> = {};
  for (const line of out.split('\n')) {
    const i = line.indexOf('=');
    if (i <= 0) continue;
    const [k, val] = [line.slice(0, i), line.slice(i + 1)];
    kv[k] = val;
    if (k.startsWith('cg')) (limits[k] ??= []).push(val.trim());
  }
  const machineCpus = Number(kv.cpus) || 1;
  const machineMemoryMb = Math.round((Number(kv.mem_kb) || 0) / 1024);
  const { memoryMb, cpus } = cgroupLimits(limits, machineMemoryMb, machineCpus);
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
    cpus,
    memoryMb,
    machineCpus,
    machineMemoryMb,
    hostname: kv.hostname ?? '',
    systemd: kv.systemd === '1',
    container: kv.container === '1',
  };
}

/** The lowest limit found (memory in bytes, CPU as quota/period), when lower than the machine's. */
export function cgroupLimits(limits: Record<string, string[]>, machineMemoryMb: number, machineCpus: number): { memoryMb: number; cpus: number } {
  let memoryMb = machineMemoryMb;
  let cpus = machineCpus;
  for (const v of [...(limits.cg2_mem ?? []), ...(limits.cg1_mem ?? [])]) {
    // "max" (v2) or a page-rounded 2^63 (v1) mean no limit
    if (!/^\d+$/.test(v) || Number(v) >= 2 ** 62) continue;
    const mb = Math.round(Number(v) / 2 ** 20);
    if (mb > 0 && (memoryMb === 0 || mb < memoryMb)) memoryMb = mb;
  }
  const quota = (q: number, period: number) => {
    if (q > 0 && period > 0 && q / period < cpus) cpus = Math.round((q / period) * 100) / 100;
  };
  for (const v of limits.cg2_cpu ?? []) {
    const [q, period] = v.split(/\s+/);
    if (q !== 'max') quota(Number(q), Number(period ?? 100000));
  }
  // v1: quota and period per level, in the order the walk printed them
  (limits.cg1_cpu ?? []).forEach((q, i) => quota(Number(q), Number(limits.cg1_period?.[i] ?? 100000)));
  return { memoryMb, cpus };
}

export async function gatherHostFacts(conn: Connection): Promise<HostFacts> {
  const r = await conn.runScript(HOST_FACTS_SCRIPT);
  if (r.code !== 0) throw new Error(`gathering host facts failed (exit ${r.code}): ${r.stderr.trim()}`);
  return parseHostFacts(r.stdout);
}
