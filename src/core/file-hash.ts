/** The hex digest of a file's content, streamed (release archives are hundreds of MB). */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';

export async function fileDigest(path: string, algo: 'sha256' | 'sha512' = 'sha256'): Promise<string> {
  const h = createHash(algo);
  await pipeline(createReadStream(path), h);
  return h.digest('hex');
}
