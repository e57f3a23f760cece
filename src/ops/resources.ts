/**
 * systemd resource controls of a service: `MemoryMax=` and `CPUQuota=` in the [Service] section of its unit
 * (`ops.unit({ ..., resources })`), from a limit the inventory gives the service (`resource_limits`, e.g. the
 * container limits of vps-trio-resource-analysis.md: `airflow-scheduler: { memory_mb: 1536, cpus: 0.8 }`).
 */

export interface ResourceControls {
  /** `MemoryMax=`: bytes with an optional K/M/G/T suffix, a percentage of RAM, or `infinity` */
  memoryMax?: string;
  /** `CPUQuota=`: a percentage of one CPU (`80%` = 0.8 CPU, `200%` = 2 CPUs) */
  cpuQuota?: string;
}

/** A service's limit as the inventory writes it. */
export interface ResourceLimit {
  memory_mb?: number;
  cpus?: number;
}

/** The inventory variable holding the limits, by service (unit name without `.service`). */
export const RESOURCE_LIMITS_VAR = 'resource_limits';

const MEMORY = /^(\d+[KMGT]?|\d+(\.\d+)?%|infinity)$/;
const QUOTA = /^\d+(\.\d+)?%$/;

/** `{ memory_mb: 1536, cpus: 0.8 }` -> `{ memoryMax: '1536M', cpuQuota: '80%' }`; undefined for no limit. */
export function resourceControls(limit: ResourceLimit | undefined): ResourceControls | undefined {
  if (!limit) return undefined;
  const out: ResourceControls = {};
  if (limit.memory_mb !== undefined) out.memoryMax = `${Math.round(limit.memory_mb)}M`;
  if (limit.cpus !== undefined) out.cpuQuota = `${Math.round(limit.cpus * 100)}%`;
  return out.memoryMax || out.cpuQuota ? out : undefined;
}

/** The limit the inventory gives a service on this host (`resource_limits.<service>`), if any. */
export function serviceLimit(hostVars: Record<string, unknown>, serviceName: string): ResourceLimit | undefined {
  const all = hostVars[RESOURCE_LIMITS_VAR];
  if (!all || typeof all !== 'object') return undefined;
  return (all as Record<string, ResourceLimit | undefined>)[serviceName.replace(/\.service$/, '')];
}

/** The resource controls the inventory gives a service on this host (`resource_limits.<service>`), if any. */
export function serviceLimits(hostVars: Record<string, unknown>, serviceName: string): ResourceControls | undefined {
  return resourceControls(serviceLimit(hostVars, serviceName));
}

/**
 * The unit file with `MemoryMax=` / `CPUQuota=` set in its [Service] section (replacing any there, added when
 * absent; a [Service] section is appended to a unit without one). No controls: the content unchanged.
 */
export function withResourceControls(content: string, rc: ResourceControls | undefined): string {
  if (!rc || (!rc.memoryMax && !rc.cpuQuota)) return content;
  if (rc.memoryMax !== undefined && !MEMORY.test(rc.memoryMax)) throw new Error(`resources.memoryMax ${JSON.stringify(rc.memoryMax)}: expected bytes with K/M/G/T, a percentage or infinity`);
  if (rc.cpuQuota !== undefined && !QUOTA.test(rc.cpuQuota)) throw new Error(`resources.cpuQuota ${JSON.stringify(rc.cpuQuota)}: expected a percentage, e.g. 80%`);
  const set = [...(rc.memoryMax ? [`MemoryMax=${rc.memoryMax}`] : []), ...(rc.cpuQuota ? [`CPUQuota=${rc.cpuQuota}`] : [])];
  const keys = set.map((l) => l.slice(0, l.indexOf('=') + 1));
  const lines = content.replace(/\n$/, '').split('\n');
  const start = lines.findIndex((l) => l.trim() === '[Service]');
  if (start < 0) return [...lines, '', '[Service]', ...set].join('\n') + '\n';
  let end = lines.findIndex((l, i) => i > start && /^\s*\[.+\]\s*$/.test(l));
  if (end < 0) end = lines.length;
  const body = lines.slice(start + 1, end).filter((l) => !keys.some((k) => l.trim().startsWith(k)));
  // keep blank lines that end the section after the new settings
  let tail = body.length;
  while (tail > 0 && body[tail - 1].trim() === '') tail--;
  return [...lines.slice(0, start + 1), ...body.slice(0, tail), ...set, ...body.slice(tail), ...lines.slice(end)].join('\n') + '\n';
}
