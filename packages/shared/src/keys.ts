import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '@mythoughts/runtime/errors';
import { writeFileAtomically } from '@mythoughts/runtime/files';

export interface KeyFiles {
  privateKeyFile?: string | undefined;
  publicKeyFile: string;
}

export interface KeyPair {
  privateKeyPem?: string | undefined;
  publicKeyPem: string;
}

/**
 * The key files to use: the configured ones, or a development pair under `dataDir/keys`,
 * generated on first use. Production sets both variables and never reaches the generator.
 */
export async function resolveKeyFiles(env: NodeJS.ProcessEnv, dataDir: string): Promise<KeyFiles> {
  const privateKeyFile = env.JWT_PRIVATE_KEY_FILE || undefined;
  const publicKeyFile = env.JWT_PUBLIC_KEY_FILE || undefined;
  if (publicKeyFile) return { privateKeyFile, publicKeyFile };
  if (privateKeyFile) {
    throw new ConfigError('JWT_PRIVATE_KEY_FILE is set but JWT_PUBLIC_KEY_FILE is not: set both, or neither for development keys');
  }
  return ensureDevKeys(dataDir);
}

/** Creates an RSA pair under `dataDir/keys` unless one is there. Never committed: data/ is git-ignored. */
export async function ensureDevKeys(dataDir: string): Promise<Required<KeyFiles>> {
  const dir = path.join(dataDir, 'keys');
  const files = { privateKeyFile: path.join(dir, 'jwt-private.pem'), publicKeyFile: path.join(dir, 'jwt-public.pem') };
  if (existsSync(files.privateKeyFile) && existsSync(files.publicKeyFile)) return files;
  mkdirSync(dir, { recursive: true });
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  // Atomically, so a process starting alongside never reads half a key.
  await writeFileAtomically(files.privateKeyFile, privateKey, { mode: 0o600 });
  await writeFileAtomically(files.publicKeyFile, publicKey, { mode: 0o644 });
  return files;
}

export function readKeyPair(files: KeyFiles): KeyPair {
  return {
    privateKeyPem: files.privateKeyFile ? readKeyFile(files.privateKeyFile, 'JWT_PRIVATE_KEY_FILE') : undefined,
    publicKeyPem: readKeyFile(files.publicKeyFile, 'JWT_PUBLIC_KEY_FILE'),
  };
}

function readKeyFile(file: string, variable: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new ConfigError(`cannot read key file ${file} (${variable}): ${reason}`);
  }
}
