/**
 * The buckets a MinIO deployment must have, as desired state, through MinIO's S3 API with the root credentials:
 * curl's AWS Signature V4 (`--aws-sigv4`, curl 7.75+; Debian 12 has 7.88), so the host needs nothing of MinIO's
 * client. The credentials reach curl through its config on stdin (`curl -K -` fed by the shell's printf builtin): they
 * are in no process's arguments on the host, and orch's output masks them as every secret.
 *
 * Fact: HEAD of each bucket (200 it exists, 404 it does not; no answer: the server is not running yet, as on a fresh
 * host; 403: the server refuses these credentials). Plan: ok when every bucket exists; otherwise the missing ones are
 * created (PUT; 200, or 409 BucketAlreadyOwnedByYou when another host or client made it meanwhile), after waiting for
 * the server to answer. Buckets are never deleted: one dropped from the list is left as it is.
 *
 * Credentials refused (403) while the server runs means a changed root password not yet loaded (the secrets file is
 * written in this run, the server restarts at the end of the phase). A single server (`restartOnRefusal`) is then
 * restarted by the op itself before the buckets are made, and it says so (`started`: the phase's restart handler does
 * not run again). A distributed one is not: its hosts must restart together with the new credentials (one alone would
 * wait for a quorum the others, on the old credentials, refuse it), so the op skips, saying the buckets are checked on
 * the next run, and the phase's restarts load the credentials.
 */
import type { Operation, Plan } from '../../src/ops/index.js';
import { q } from '../../src/ops/index.js';

export interface BucketsOptions {
  /** e.g. http://127.0.0.1:9000 */
  endpoint: string;
  region: string;
  accessKey: string;
  secretKey: string;
  buckets: string[];
  /** the systemd service to restart when the server refuses the credentials (they changed in this run) */
  service: string;
  /** seconds to wait for the server to answer before creating (a first start, a restart) */
  timeoutS: number;
  /** credentials refused: restart `service` here (a single server) rather than skip until the next run */
  restartOnRefusal: boolean;
}

/** bucket -> HTTP status of its HEAD (0: no answer) */
export type BucketsFact = Record<string, number>;

/** a value in curl's config file syntax (double-quoted, \\ and \" escaped) */
export function curlConfigValue(s: string): string {
  if (/[\n\r]/.test(s)) throw new Error('a curl config value holds a newline');
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** curl's config for a signed S3 request: credentials and the SigV4 scope; fed on stdin, never in argv */
export function curlConfig(o: Pick<BucketsOptions, 'accessKey' | 'secretKey' | 'region'>): string {
  return [`user = ${curlConfigValue(`${o.accessKey}:${o.secretKey}`)}`, `aws-sigv4 = ${curlConfigValue(`aws:amz:${o.region}:s3`)}`].join('\n');
}

/** `curl -K -` of a signed request, its status code on stdout (000: no answer) */
function signed(o: BucketsOptions, args: string): string {
  return `printf '%s\\n' ${q(curlConfig(o))} | curl -K - -s -o /dev/null -w '%{http_code}' --max-time 10 ${args}`;
}

const bucketUrl = (o: BucketsOptions, b: string) => q(`${o.endpoint.replace(/\/+$/, '')}/${b}`);

export function bucketsOp(o: BucketsOptions): Operation<BucketsFact> {
  const names = [...new Set(o.buckets)];
  const command = names.map((b) => `c=$(${signed(o, `-I ${bucketUrl(o, b)}`)}) || true\nprintf 'B|%s|%s\\n' ${q(b)} "\${c:-000}"`).join('\n');
  return {
    kind: 'buckets',
    name: `S3 buckets on ${o.endpoint}: ${names.join(', ')}`,
    secret: true,
    fact: names.length
      ? {
          key: `buckets:${o.endpoint}:${names.join(',')}`,
          command,
          parse(stdout) {
            const f: BucketsFact = Object.fromEntries(names.map((b) => [b, 0]));
            for (const line of stdout.split('\n')) {
              const m = /^B\|([^|]+)\|([0-9]{3})$/.exec(line.trim());
              if (m && m[1] in f) f[m[1]] = Number(m[2]);
            }
            return f;
          },
        }
      : null,
    plan(f): Plan {
      if (!names.length) return { status: 'ok', reason: 'no buckets listed' };
      const codes = f ?? {};
      const missing = names.filter((b) => codes[b] !== 200);
      if (!missing.length) return { status: 'ok', reason: `${names.length} bucket(s) exist: ${names.join(', ')}` };
      const refused = names.some((b) => codes[b] === 403);
      if (refused && !o.restartOnRefusal) {
        return { status: 'skip', reason: 'the server refuses the root credentials (changed in this run; the hosts load them when they restart at the end of this phase): buckets checked on the next run' };
      }
      const down = names.every((b) => !codes[b]);
      const odd = missing.filter((b) => ![0, 403, 404].includes(codes[b] ?? 0)).map((b) => `${b}: HTTP ${codes[b]}`);
      const why = refused
        ? 'the server refuses the root credentials (changed in this run): restart it with them, then'
        : down
          ? 'the server does not answer yet (not installed or not started):'
          : '';
      const reason = `${why ? `${why} ` : ''}create ${missing.join(', ')}${odd.length ? ` (${odd.join(', ')})` : ''}`;
      const script: string[] = [];
      if (refused) script.push(`systemctl restart ${q(o.service)}`);
      script.push(
        `deadline=$(( $(date +%s) + ${Math.max(1, Math.floor(o.timeoutS))} ))`,
        // wait until the server answers these credentials (the first start or a restart takes a few seconds)
        `until c=$(${signed(o, `-I ${bucketUrl(o, missing[0])}`)}) && { [ "$c" = 200 ] || [ "$c" = 404 ]; }; do`,
        `  if [ "$(date +%s)" -ge "$deadline" ]; then printf '%s\\n' "orch: MinIO at ${o.endpoint.replace(/'/g, '')} did not accept the root credentials within ${o.timeoutS} s (last HTTP status $c)" >&2; exit 1; fi`,
        '  sleep 1',
        'done',
      );
      for (const b of missing) {
        script.push(
          `c=$(${signed(o, `-X PUT ${bucketUrl(o, b)}`)}) || true`,
          `case "$c" in 200|409) ;; *) printf '%s\\n' ${q(`orch: creating bucket ${b} failed: HTTP `)}"$c" >&2; exit 1 ;; esac`,
        );
      }
      return { status: 'change', reason, script: script.join('\n'), ...(refused ? { started: [o.service] } : {}) };
    },
  };
}
