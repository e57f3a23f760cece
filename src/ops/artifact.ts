/**
 * `artifact`: a release archive (tar.gz/tgz/tar.xz/tar.bz2/tar or zip) unpacked into `dest`, with an
 * optional `link` (e.g. `/opt/kafka/current`) pointing at it. With `unpack: false` the downloaded file is kept
 * whole as `<dest>/<file name>` (a release that is one file: Nessie's runner jar; `mode: 0o755` for a static
 * binary such as MinIO's), with the same marker, verification, atomic rename and link; the file's mode is part of
 * the desired state (a file found with another mode is chmod-ed, nothing downloaded).
 *
 * The archive is downloaded once into the controller cache and verified (artifact-cache.ts), pushed to
 * the host through `uploads()`, verified again there (sha512sum, or sha256sum for a release pinned by its sha256),
 * unpacked into a temp directory next to `dest`, marked (`<dest>/.orch-artifact` holds the sha512, or
 * `sha256:<hex>`) and renamed into place, so `dest` is either
 * absent, a previous release, or complete. The fact reads the marker and the link.
 *
 * Contract with the runner: `plan` and `uploads` are synchronous, so the local file must be known
 * beforehand. Either pass `localPath` (an already verified file), or await the op's `prepare()` (or
 * `prepareArtifacts(ops)`, which does it for every artifact op) before calling `uploads()`. Only
 * `uploads()` needs the file: preparing just the ops whose plan is `change` avoids downloads for hosts
 * that already have the release; check mode needs no download.
 */
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { Fact, Operation, Plan } from './types.js';
import { octal, q } from './quote.js';
import { assertAbsolute, failScript, ownershipDiffs, parseMode, parseStat, statCommand, tagged, type Mode, type PathStat } from './stat.js';
import { linkScript, planLink, type LinkFact } from './symlink.js';
import { artifactFileName, defaultCacheDir, ensureCached, parseDigest } from './artifact-cache.js';

export const ARTIFACT_MARKER = '.orch-artifact';

export interface ArtifactOptions {
  url: string;
  /** the archive's sha512 (128 hex digits); exactly one of sha512 and sha256 */
  sha512?: string;
  /** the archive's sha256, for projects that publish no sha512 (etcd's SHA256SUMS) */
  sha256?: string;
  /** release directory, e.g. `/opt/kafka/releases/3.9.0` */
  dest: string;
  /** symlink to `dest`, e.g. `/opt/kafka/current` */
  link?: string;
  /** owner/group of everything unpacked (default root) */
  owner?: string;
  group?: string;
  /** drop this many leading path components (tar --strip-components; zip: 0 or 1) */
  stripComponents?: number;
  /** false: keep the file whole as `<dest>/<file name>` (mode `mode`) instead of unpacking it; default true */
  unpack?: boolean;
  /** with unpack: false, the kept file's mode (default 0644; 0755 for an executable) */
  mode?: Mode;
  /** controller cache (default `$XDG_CACHE_HOME/orch/artifacts` or `~/.cache/orch/artifacts`) */
  cacheDir?: string;
  /** an already downloaded and verified local file: no `prepareArtifacts` needed */
  localPath?: string;
}

export interface ArtifactFact {
  /** checksum in `<dest>/.orch-artifact` (a sha512, or `sha256:<hex>`), null when absent */
  marker: string | null;
  dest: PathStat | null;
  link: LinkFact;
  /** with unpack: false, the kept file `<dest>/<file name>` (null when absent) */
  file?: PathStat | null;
}

type Kind = 'tar' | 'zip' | 'file';

/** A marker's checksum as algorithm and hex (`sha256:<hex>` or a bare sha512; anything else as found). */
function parseMarker(m: string): { algo: string; hex: string } {
  const i = m.indexOf(':');
  return i > 0 ? { algo: m.slice(0, i), hex: m.slice(i + 1) } : { algo: 'sha512', hex: m };
}

function archiveKind(name: string): Kind {
  if (/\.(tar\.gz|tgz|tar\.xz|txz|tar\.bz2|tbz2?|tar)$/i.test(name)) return 'tar';
  if (/\.zip$/i.test(name)) return 'zip';
  throw new Error(`artifact ${name}: unsupported archive type (tar.gz, tgz, tar.xz, tar.bz2, tar, zip)`);
}

/**
 * Make ready on the controller what these ops push: download and verify (once, into the controller cache) the
 * archives of artifact ops, build the wheelhouses of python-venv ops and the bundles of node-package ops; other ops
 * are ignored.
 */
export async function prepareArtifacts(ops: Iterable<Operation<any>>): Promise<void> {
  await Promise.all([...ops].filter(isPreparedOp).map((op) => op.prepare()));
}

function isPreparedOp(op: Operation<any>): op is Operation<any> & { prepare(): Promise<void> } {
  return (op.kind === 'artifact' || op.kind === 'python-venv' || op.kind === 'node-package') && typeof (op as Partial<ArtifactOperation>).prepare === 'function';
}

/** An artifact op also has `prepare()` (what `prepareArtifacts` calls): download and verify into the cache. */
export type ArtifactOperation = Operation<ArtifactFact> & { prepare(): Promise<void> };

export function artifact(o: ArtifactOptions): ArtifactOperation {
  assertAbsolute(o.dest, 'artifact dest');
  if (o.dest === '/' || o.dest.endsWith('/')) throw new Error(`artifact dest must be a directory path without trailing slash, got ${o.dest}`);
  if (o.link !== undefined) assertAbsolute(o.link, 'artifact link');
  if ((o.sha512 === undefined) === (o.sha256 === undefined)) throw new Error(`artifact ${o.url}: give exactly one of sha512 and sha256`);
  const digest = o.sha512 !== undefined ? parseDigest(o.sha512) : parseDigest(`sha256:${o.sha256}`);
  const sha = digest.hex;
  const algo = digest.algo;
  /** what the marker holds, and the cache is asked for: a bare sha512 (as always), or sha256:<hex> */
  const checksum = algo === 'sha512' ? sha : `sha256:${sha}`;
  const hexLen = sha.length;
  const fileName = artifactFileName(o.url);
  const kind: Kind = o.unpack === false ? 'file' : archiveKind(fileName);
  const strip = o.stripComponents ?? 0;
  if (kind === 'file' && strip !== 0) throw new Error(`artifact ${fileName}: stripComponents has no meaning with unpack: false`);
  if (kind !== 'file' && o.mode !== undefined) throw new Error(`artifact ${fileName}: mode is for a file kept whole (unpack: false); an archive keeps its entries' modes`);
  const fileMode = kind === 'file' ? parseMode(o.mode ?? 0o644) : 0;
  const filePath = posix.join(o.dest, fileName);
  if (!Number.isInteger(strip) || strip < 0 || (kind === 'zip' && strip > 1)) {
    throw new Error(`artifact ${fileName}: stripComponents must be ${kind === 'zip' ? '0 or 1 for zip' : 'a non-negative integer'}`);
  }
  const entry = { url: o.url, checksum, cacheDir: o.cacheDir ?? defaultCacheDir(), path: o.localPath };
  const remote = `/var/tmp/.orch-artifact-${sha.slice(0, 16)}-${randomBytes(4).toString('hex')}-${fileName}`;
  const d = q(o.dest);
  const markerPath = q(posix.join(o.dest, ARTIFACT_MARKER));

  const factCommand = [
    `if [ -f ${markerPath} ]; then printf 'M|%s\\n' "$(head -n 1 ${markerPath})"; fi`,
    statCommand(o.dest, 'S'),
    kind === 'file' ? statCommand(filePath, 'F') : '',
    o.link !== undefined
      ? `if [ -L ${q(o.link)} ]; then printf 'L|%s\\n' "$(readlink -- ${q(o.link)})"; elif [ -e ${q(o.link)} ]; then stat -c 'O|%F' -- ${q(o.link)}; fi`
      : '',
  ].filter(Boolean).join('\n');
  const fact: Fact<ArtifactFact> = {
    key: `artifact:${o.dest}:${o.link ?? ''}`,
    command: factCommand,
    parse(stdout) {
      const s = tagged(stdout, 'S')[0];
      const l = tagged(stdout, 'L')[0];
      const other = tagged(stdout, 'O')[0];
      const m = tagged(stdout, 'M')[0];
      const f = tagged(stdout, 'F')[0];
      return {
        marker: m ? m.trim() : null,
        dest: s === undefined ? null : parseStat(s),
        link: l !== undefined ? { link: l } : other !== undefined ? { other } : {},
        ...(kind === 'file' ? { file: f === undefined ? null : parseStat(f) } : {}),
      };
    },
  };

  // a kept file that is missing (removed by hand) is downloaded again, as a missing release directory is
  const needsUnpack = (f: ArtifactFact) => f.marker !== checksum || !f.dest || f.dest.type !== 'directory' || (kind === 'file' && !f.file);
  const owner = o.owner !== undefined || o.group !== undefined ? { owner: o.owner, group: o.group } : null;
  const chown = owner
    ? o.owner !== undefined && o.group !== undefined
      ? `chown -R ${q(`${o.owner}:${o.group}`)}`
      : o.owner !== undefined
        ? `chown -R ${q(o.owner)}`
        : `chgrp -R ${q(o.group!)}`
    : '';

  function unpackScript(): string {
    const parent = posix.dirname(o.dest);
    const extract =
      kind === 'tar'
        ? `tar -xf "$f" -C "$d/x" --no-same-owner${strip ? ` --strip-components=${strip}` : ''}`
        : kind === 'zip'
          ? `unzip -q "$f" -d "$d/x"`
          : `cp "$f" "$d/x/"${q(fileName)} && chmod ${octal(fileMode)} "$d/x/"${q(fileName)} && chmod 0755 "$d/x"`;
    const lines = [
      `f=${q(remote)}`,
      `s=$(${algo}sum <"$f" | cut -c1-${hexLen})`,
      `if [ "$s" != ${sha} ]; then rm -f "$f"; printf '%s%s\\n' ${q(`orch: ${fileName}: ${algo} mismatch on the host: expected ${sha}, got `)} "$s" >&2; exit 1; fi`,
      `mkdir -p ${q(parent)}`,
      `d=$(mktemp -d ${q(`${parent === '/' ? '' : parent}/.orch.XXXXXX`)})`,
      `mkdir "$d/x"`,
      `${extract} || { rm -rf "$d" "$f"; printf '%s\\n' ${q(`orch: unpacking ${fileName} failed`)} >&2; exit 1; }`,
    ];
    if (kind === 'zip' && strip === 1) {
      lines.push(
        `n=$(ls -A "$d/x" | wc -l)`,
        `r="$d/x/$(ls -A "$d/x")"`,
        `if [ "$n" != 1 ] || [ ! -d "$r" ]; then rm -rf "$d" "$f"; printf '%s\\n' ${q(`orch: ${fileName}: stripComponents 1 needs a single top-level directory`)} >&2; exit 1; fi`,
      );
    } else lines.push(`r="$d/x"`);
    lines.push(`printf '%s\\n' ${checksum} ${q(o.url)} >"$r"/${ARTIFACT_MARKER}`);
    if (chown) lines.push(`${chown} "$r"`);
    lines.push(
      `if [ -e ${d} ] || [ -L ${d} ]; then mv -fT ${d} "$d/old"; fi`,
      `mv -T "$r" ${d}`,
      `rm -rf "$d" "$f"`,
    );
    return lines.join('\n');
  }

  const op: ArtifactOperation = {
    kind: 'artifact',
    name: o.dest,
    fact,
    plan(f): Plan {
      const reasons: string[] = [];
      const script: string[] = [];
      if (needsUnpack(f)) {
        if (!f.dest) reasons.push(`download ${fileName} (${algo} ${sha.slice(0, 12)}..) and ${kind === 'file' ? `place it in ${o.dest}` : 'unpack'}`);
        else if (f.dest.type !== 'directory') {
          return {
            status: 'change',
            reason: `${o.dest} is a ${f.dest.type}, not a directory: refusing to replace it`,
            script: failScript(`${o.dest} is a ${f.dest.type}, not a directory`),
          };
        } else {
          const m = f.marker ? parseMarker(f.marker) : null;
          const found = m ? `${m.algo} ${m.hex.slice(0, 12)}..` : 'no marker';
          reasons.push(`${o.dest} has ${found}: replace with ${fileName} (${algo} ${sha.slice(0, 12)}..)`);
        }
        script.push(unpackScript());
      } else {
        if (owner && f.dest) {
          const diffs = ownershipDiffs(f.dest, owner);
          if (diffs.length) {
            reasons.push(diffs.join(', '));
            script.push(`${chown} ${d}`);
          }
        }
        if (kind === 'file' && f.file && f.file.mode !== fileMode) {
          reasons.push(`${filePath}: mode ${octal(f.file.mode)} -> ${octal(fileMode)}`);
          script.push(`chmod ${octal(fileMode)} ${q(filePath)}`);
        }
      }
      if (o.link !== undefined) {
        const lp = planLink(o.link, o.dest, f.link);
        if (lp.status === 'change') {
          if (f.link.other !== undefined) return lp;
          reasons.push(`${o.link}: ${lp.reason}`);
          script.push(linkScript(o.link, o.dest));
        }
      }
      if (!reasons.length) {
        return {
          status: 'ok',
          reason: `${fileName} ${kind === 'file' ? 'in place' : 'unpacked'} (${algo} ${sha.slice(0, 12)}..)${o.link !== undefined ? `, ${o.link} -> ${o.dest}` : ''}`,
        };
      }
      return { status: 'change', reason: reasons.join(', '), script: script.join('\n') };
    },
    uploads(f) {
      if (!needsUnpack(f)) return [];
      const local = entry.path;
      if (!local) throw new Error(`artifact ${fileName} for ${o.dest} is not downloaded: await prepareArtifacts(ops) before uploads()`);
      return [{ local, remote, mode: 0o600 }];
    },
    async prepare() {
      if (!entry.path) entry.path = await ensureCached(entry.url, entry.checksum, entry.cacheDir);
    },
  };
  return op;
}
