import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '@mythoughts/runtime/errors';
import { MIN_SECRET_LENGTH } from './overrideToken.ts';

/**
 * The gw_cohort HMAC secret: GATEWAY_COHORT_SECRET, else a development key in
 * `<DATA_DIR>/keys/gateway-cohort.key` (DATA_DIR defaults to `data` in the working directory,
 * where the JWT dev keys are too), made on first start. Every replica and cluster worker must
 * use the same one, or each would replace the others' cookies: production sets the variable
 * (compose and k8s pass it as a secret); on one machine every process finds the same file.
 */
export function resolveCohortSecret(env: NodeJS.ProcessEnv): string {
  const given = env.GATEWAY_COHORT_SECRET;
  if (given) {
    if (given.length < MIN_SECRET_LENGTH)
      throw new ConfigError(`GATEWAY_COHORT_SECRET is ${given.length} characters; use at least ${MIN_SECRET_LENGTH} (e.g. openssl rand -hex 32)`);
    return given;
  }
  const file = path.join(path.resolve(env.DATA_DIR || 'data'), 'keys', 'gateway-cohort.key');
  try {
    return readSecret(file) ?? createSecret(file);
  } catch (error) {
    throw new ConfigError(`cannot read or create the development cohort key ${file}: ${(error as Error).message} (or set GATEWAY_COHORT_SECRET)`);
  }
}

function readSecret(file: string): string | null {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Written whole to a temporary name and linked into place: two processes starting together end up with the same key. */
function createSecret(file: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temporary, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  try {
    linkSync(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(temporary, { force: true });
  }
  return readFileSync(file, 'utf8').trim();
}
