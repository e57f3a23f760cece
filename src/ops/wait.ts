/**
 * `waitForPort` and `waitForHttp`: ok when the service already answers, else a script that polls
 * until it does or fails after the timeout with a clear message.
 * The port probe is POSIX sh only (no bash /dev/tcp): it reads /proc/net/tcp and /proc/net/tcp6 for a
 * socket in state LISTEN (0A) on the port (hex), bound to the address asked for or to a wildcard.
 */
import { isIP } from 'node:net';
import type { Fact, Operation, Plan } from './types.js';
import { q } from './quote.js';
import { tagged } from './stat.js';

export interface WaitForPortOptions {
  /** address the service must accept on; default 127.0.0.1 (a wildcard listener also counts) */
  host?: string;
  port: number;
  /** default 60 */
  timeoutS?: number;
}

/** Local addresses (as /proc/net/tcp* print them, `ADDR:PORT` in hex) listening on the port. */
export interface PortFact {
  listeners: string[];
}

/** Hex address forms that accept connections to `host`: the address itself, v4-mapped, and wildcards. */
export function acceptingAddresses(host: string): string[] | null {
  if (isIP(host) !== 4) return null; // a name or IPv6: any listener on the port counts
  const le = host
    .split('.')
    .map((o) => Number(o).toString(16).toUpperCase().padStart(2, '0'))
    .reverse()
    .join('');
  return [le, '00000000', `0000000000000000FFFF0000${le}`, '00000000000000000000000000000000'];
}

function hexPort(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, '0');
}

/** sh: prints `L|<local_address>` for each LISTEN socket on the port. */
function listenersCommand(port: number): string {
  return [
    'for f in /proc/net/tcp /proc/net/tcp6; do',
    '  [ -r "$f" ] || continue',
    '  while read -r sl local rem st rest; do',
    `    case "$st $local" in "0A "*:${hexPort(port)}) echo "L|$local";; esac`,
    '  done <"$f"',
    'done',
  ].join('\n');
}

/** sh condition: a listener on the port accepts connections to host (sets and tests `found`). */
function listeningCheck(host: string, port: number): string {
  const addrs = acceptingAddresses(host);
  const pattern = addrs ? addrs.map((a) => `"0A ${a}:${hexPort(port)}"`).join('|') : `"0A "*:${hexPort(port)}`;
  return [
    'found=0',
    'for f in /proc/net/tcp /proc/net/tcp6; do',
    '  [ -r "$f" ] || continue',
    '  while read -r sl local rem st rest; do',
    `    case "$st $local" in ${pattern}) found=1;; esac`,
    '  done <"$f"',
    'done',
  ].join('\n');
}

/** sh polling loop around `check` (which sets found=1); fails with `message` (+ sh-quoted `detail`) after timeoutS. */
function pollScript(check: string, timeoutS: number, message: string, detail = ''): string {
  return [
    `end=$(( $(date +%s) + ${Math.ceil(timeoutS)} ))`,
    'while :; do',
    check.replace(/^/gm, '  '),
    '  [ "$found" = 1 ] && break',
    `  if [ "$(date +%s)" -ge "$end" ]; then printf '%s%s\\n' ${q(`orch: ${message}`)} ${detail || "''"} >&2; exit 1; fi`,
    '  sleep 1',
    'done',
  ].join('\n');
}

export function waitForPort(o: WaitForPortOptions): Operation<PortFact> {
  const host = o.host ?? '127.0.0.1';
  const timeoutS = o.timeoutS ?? 60;
  if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535) throw new Error(`waitForPort: invalid port ${o.port}`);
  const fact: Fact<PortFact> = {
    key: `port:${o.port}`,
    command: listenersCommand(o.port),
    parse: (stdout) => ({ listeners: tagged(stdout, 'L') }),
  };
  const addrs = acceptingAddresses(host);
  const suffix = `:${hexPort(o.port)}`;
  return {
    kind: 'waitForPort',
    name: `${host}:${o.port}`,
    fact,
    plan(f): Plan {
      const ok = f.listeners.some((l) => l.endsWith(suffix) && (!addrs || addrs.includes(l.slice(0, -suffix.length))));
      if (ok) return { status: 'ok', reason: `${host}:${o.port} is listening` };
      return {
        status: 'change',
        reason: `nothing listening on ${host}:${o.port} yet: wait up to ${timeoutS}s`,
        script: pollScript(listeningCheck(host, o.port), timeoutS, `nothing listening on ${host}:${o.port} after ${timeoutS}s`),
      };
    },
  };
}

export interface WaitForHttpOptions {
  url: string;
  /** expected HTTP status, default 200 */
  status?: number;
  /** default 60 */
  timeoutS?: number;
  /** accept any TLS certificate (curl -k) */
  insecure?: boolean;
}

export interface HttpFact {
  /** HTTP status code, `000` when nothing answered */
  code: string;
}

export function waitForHttp(o: WaitForHttpOptions): Operation<HttpFact> {
  const status = o.status ?? 200;
  const timeoutS = o.timeoutS ?? 60;
  if (!/^https?:\/\//.test(o.url)) throw new Error(`waitForHttp: url must be http(s)://, got ${JSON.stringify(o.url)}`);
  const curl = `curl -s${o.insecure ? 'k' : ''} -o /dev/null -w '%{http_code}' --max-time 5 ${q(o.url)}`;
  const fact: Fact<HttpFact> = {
    key: `http:${o.insecure ? 'k:' : ''}${o.url}`,
    command: `c=$(${curl}) || :\nprintf 'H|%s\\n' "\${c:-000}"`,
    parse: (stdout) => ({ code: tagged(stdout, 'H')[0] ?? '000' }),
  };
  return {
    kind: 'waitForHttp',
    name: o.url,
    fact,
    plan(f): Plan {
      if (f.code === String(status)) return { status: 'ok', reason: `answers ${status}` };
      const now = f.code === '000' ? 'no answer' : `status ${f.code}`;
      const check = `c=$(${curl}) || :\nfound=0\n[ "$c" = ${status} ] && found=1`;
      return {
        status: 'change',
        reason: `${now}, want ${status}: wait up to ${timeoutS}s`,
        script: pollScript(check, timeoutS, `${o.url} did not answer ${status} within ${timeoutS}s`, '" (last: $c)"'),
      };
    },
  };
}
