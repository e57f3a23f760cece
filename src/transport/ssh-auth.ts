/**
 * Which SSH authentication methods to try for one hop, in order, as an ssh2 `authHandler` list:
 * the configured private key file, then ssh-agent (SSH_AUTH_SOCK), then, when no key file is
 * configured, the default identities (~/.ssh/id_ed25519, id_ecdsa, id_rsa), then the password.
 * Problems the user must fix (missing or passphrase-protected key file) are thrown as
 * AuthSetupError, so that the caller reports them once, without retrying.
 */
import { existsSync, promises as fs, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import type { AnyAuthMethod, IdentityCallback, ParsedKey } from 'ssh2';

const { OpenSSHAgent, utils } = ssh2;

export class AuthSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthSetupError';
  }
}

/** An agent that reports "no keys" instead of failing when the agent socket is dead. */
class TolerantAgent extends OpenSSHAgent {
  override getIdentities(cb: IdentityCallback<ParsedKey>): void {
    super.getIdentities((err, keys) => cb(undefined, err ? [] : (keys ?? [])));
  }
}

export interface HopCredentials {
  user: string;
  privateKeyFile?: string;
  password?: string;
}

export interface AuthPlan {
  methods: AnyAuthMethod[];
  /** human-readable list for "authentication failed ... (tried ...)" */
  tried: string[];
}

function expandHome(file: string): string {
  return file === '~' || file.startsWith('~/') ? path.join(os.homedir(), file.slice(1)) : file;
}

function agentSocket(): string | undefined {
  const sock = process.env.SSH_AUTH_SOCK;
  if (!sock) return undefined;
  try {
    return statSync(sock).isSocket() ? sock : undefined;
  } catch {
    return undefined;
  }
}

function isEncryptedKeyError(err: Error): boolean {
  return /passphrase|encrypted/i.test(err.message);
}

export async function planAuth(creds: HopCredentials, env: { agentSocket?: string | null } = {}): Promise<AuthPlan> {
  const username = creds.user;
  const methods: AnyAuthMethod[] = [];
  const tried: string[] = [];
  const agent = env.agentSocket === undefined ? agentSocket() : (env.agentSocket ?? undefined);

  if (creds.privateKeyFile) {
    const file = expandHome(creds.privateKeyFile);
    let text: Buffer;
    try {
      text = await fs.readFile(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new AuthSetupError(
        code === 'ENOENT' ? `private key file ${file} does not exist` : `cannot read private key file ${file}: ${code}`,
      );
    }
    const parsed = utils.parseKey(text);
    if (parsed instanceof Error) {
      // a passphrase-protected key may still be usable through the agent
      if (!(isEncryptedKeyError(parsed) && agent)) {
        throw new AuthSetupError(
          isEncryptedKeyError(parsed)
            ? `private key file ${file} is passphrase-protected; load it into ssh-agent (ssh-add ${file})`
            : `private key file ${file} is not a usable private key: ${parsed.message}`,
        );
      }
    } else {
      methods.push({ type: 'publickey', username, key: text });
      tried.push(`key ${file}`);
    }
  }
  if (agent) {
    methods.push({ type: 'agent', username, agent: new TolerantAgent(agent) });
    tried.push('ssh-agent');
  }
  if (!creds.privateKeyFile) {
    for (const name of ['id_ed25519', 'id_ecdsa', 'id_rsa']) {
      const file = path.join(os.homedir(), '.ssh', name);
      if (!existsSync(file)) continue;
      try {
        const text = await fs.readFile(file);
        if (utils.parseKey(text) instanceof Error) continue; // passphrase-protected: only via the agent
        methods.push({ type: 'publickey', username, key: text });
        tried.push(`key ~/.ssh/${name}`);
      } catch {
        // unreadable default identity: skip, as ssh does
      }
    }
  }
  if (creds.password !== undefined && creds.password !== '') {
    methods.push({ type: 'password', username, password: creds.password });
    tried.push('password');
  }
  if (methods.length === 0) {
    throw new AuthSetupError(
      `no credentials for user ${username}: set ansible_ssh_private_key_file or ansible_password, or start ssh-agent`,
    );
  }
  return { methods, tried };
}
