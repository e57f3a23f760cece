/** Typed renderers of the common role's files. */

export interface LimitEntry {
  domain: string;
  type: 'soft' | 'hard' | '-';
  item: string;
  value: number | string;
}

const HEADER = '# Managed by orch (role common) - do not edit';

/** /etc/security/limits.d/99-orch.conf, as the seed's limits.conf block. */
export function renderLimits(entries: LimitEntry[]): string {
  return [HEADER, ...entries.map((e) => `${e.domain} ${e.type} ${e.item} ${e.value}`)].join('\n') + '\n';
}

/** apt.conf.d snippet pointing apt at an HTTP proxy. */
export function renderAptProxy(url: string): string {
  return `// Managed by orch (role common)\nAcquire::http::Proxy "${url}";\nAcquire::https::Proxy "DIRECT";\n`;
}
