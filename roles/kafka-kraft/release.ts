/**
 * What the Kafka roles share: kafka-kraft, kafka (ZooKeeper mode) and kafka-connect all run a JVM from the same
 * Apache Kafka release archive. Here: the release's install (catalogue URL + pinned sha512, or `artifact_mirror`,
 * unpacked under ROOT/releases/VERSION and linked as ROOT/current), the systemd unit of a service of that release,
 * and the heap size arithmetic. Pure, unit-tested through each role's renderers.
 */
import { artifactSource, release } from '../../src/artifacts/index.js';
import { ops } from '../../src/ops/index.js';
import type { Operation } from '../../src/ops/types.js';

export interface KafkaReleaseInput {
  version: string;
  /** install root: releases under ROOT/releases/VERSION, ROOT/current links to the one in use */
  root: string;
  /** `artifact_mirror`; empty: the official URL */
  mirror?: string;
  /** the archive's sha512 at the mirror; empty: the catalogue's pinned one */
  sha512?: string;
}

/** The release's artifact operation and where it is in use (ROOT/current). */
export function kafkaRelease(i: KafkaReleaseInput): { op: Operation<any>; home: string; version: string } {
  const rel = release('kafka', i.version);
  const src = artifactSource(rel, { mirror: i.mirror || undefined, sha512: i.sha512 || undefined });
  const home = `${i.root}/current`;
  return { op: ops.artifact({ url: src.url, sha512: src.sha512, dest: `${i.root}/releases/${rel.version}`, link: home, stripComponents: 1 }), home, version: rel.version };
}

/** `16g` / `1G` / `512m` in MiB. */
export function heapMb(heap: string): number {
  const n = Number(heap.slice(0, -1));
  return /[gG]$/.test(heap) ? n * 1024 : n;
}

export interface JvmUnitInput {
  /** the role writing it, named in the header */
  role: string;
  description: string;
  /** units to order after (network-online.target comes first, always) */
  after?: string[];
  /** units this one needs (Requires=): stopped or restarted with them */
  requires?: string[];
  /** units started with this one if they can be (Wants=, after network-online.target) */
  wants?: string[];
  user: string;
  group: string;
  /** Environment= lines, in order; a value with a space is quoted */
  environment: Array<[string, string]>;
  execStart: string;
  restartSec?: number;
  limitNofile: number;
}

/**
 * The unit of a service of the Kafka release: Type=simple (the start scripts exec the JVM), 143 (SIGTERM) a clean
 * exit, restarted on failure, 180 s to stop (a broker's controlled shutdown moves partition leaders first).
 */
export function jvmServiceUnit(u: JvmUnitInput): string {
  const env = u.environment.map(([k, v]) => (/\s/.test(v) ? `Environment="${k}=${v}"` : `Environment=${k}=${v}`));
  return [
    `# Managed by orch (role ${u.role})`,
    '[Unit]',
    `Description=${u.description}`,
    'Documentation=https://kafka.apache.org/documentation/',
    `Wants=${['network-online.target', ...(u.wants ?? [])].join(' ')}`,
    `After=${['network-online.target', ...(u.after ?? [])].join(' ')}`,
    ...(u.requires?.length ? [`Requires=${u.requires.join(' ')}`] : []),
    '',
    '[Service]',
    'Type=simple',
    `User=${u.user}`,
    `Group=${u.group}`,
    ...env,
    `ExecStart=${u.execStart}`,
    'SuccessExitStatus=143',
    'Restart=on-failure',
    `RestartSec=${u.restartSec ?? 5}`,
    'TimeoutStopSec=180',
    `LimitNOFILE=${u.limitNofile}`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}
