/**
 * The simulation's SSH client key: an unencrypted ed25519 key pair in OpenSSH format,
 * made with ssh-keygen when present, else with Node's crypto.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { have, run } from './docker.js';

function sshString(b: Buffer | string): Buffer {
  const data = typeof b === 'string' ? Buffer.from(b) : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  return Buffer.concat([len, data]);
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** An ed25519 key pair encoded like `ssh-keygen -t ed25519 -N ''` does. */
export function generateOpenSshEd25519(comment: string): { privateKey: string; publicKey: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  // raw keys are the last 32 bytes of the SPKI / PKCS#8 DER encodings
  const pub = publicKey.export({ type: 'spki', format: 'der' }).subarray(-32);
  const seed = privateKey.export({ type: 'pkcs8', format: 'der' }).subarray(-32);
  const pubBlob = Buffer.concat([sshString('ssh-ed25519'), sshString(pub)]);
  const check = randomBytes(4);
  let priv = Buffer.concat([
    check,
    check,
    sshString('ssh-ed25519'),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(comment),
  ]);
  const pad: number[] = [];
  for (let i = 1; (priv.length + pad.length) % 8 !== 0; i++) pad.push(i);
  priv = Buffer.concat([priv, Buffer.from(pad)]);
  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0'),
    sshString('none'),
    sshString('none'),
    sshString(''),
    uint32(1),
    sshString(pubBlob),
    sshString(priv),
  ]);
  const b64 = body.toString('base64').replace(/(.{70})/g, '$1\n').replace(/\n$/, '');
  return {
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}\n-----END OPENSSH PRIVATE KEY-----\n`,
    publicKey: `ssh-ed25519 ${pubBlob.toString('base64')} ${comment}\n`,
  };
}

/** Create `file` (private, 0600) and `file.pub` unless both exist; returns the public key line. */
export async function ensureKeyPair(file: string, comment: string): Promise<string> {
  if (existsSync(file) && existsSync(`${file}.pub`)) return (await readFile(`${file}.pub`, 'utf8')).trim();
  await rm(file, { force: true });
  await rm(`${file}.pub`, { force: true });
  if (await have('ssh-keygen')) {
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
  } else {
    const k = generateOpenSshEd25519(comment);
    await writeFile(file, k.privateKey, { mode: 0o600 });
    await writeFile(`${file}.pub`, k.publicKey, { mode: 0o644 });
  }
  await chmod(file, 0o600);
  return (await readFile(`${file}.pub`, 'utf8')).trim();
}
