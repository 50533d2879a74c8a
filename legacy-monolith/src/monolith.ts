import type { Logger } from 'pino';
import type { ServiceContext } from '@mythoughts/shared/http/service';
import { ConfigError } from '@mythoughts/runtime/errors';
import { createTokenSigner, createTokenVerifier, type TokenSigner, type TokenVerifier } from '@mythoughts/runtime/tokens';
import { loginGuard, type TryLogin } from './loginGuard.ts';
import { Models } from './models.ts';

/** What the monolith's API and site work with, built once per process. */
export interface Monolith {
  /** Every query the monolith makes (models.ts). */
  models: Models;
  /** Checks a password under the failed-login limits shared by the site, the API and the users service. */
  tryLogin: TryLogin;
  /** How long an HTML session lives after its login (SESSION_LIFETIME_SECONDS). */
  sessionLifetimeSeconds: number;
  signer: TokenSigner;
  verifier: TokenVerifier;
  /** The private key, from which the site derives its CSRF secret. */
  privateKeyPem: string;
  logger: Logger;
}

export function createMonolith({ config, database, logger }: ServiceContext): Monolith {
  const { privateKeyPem, publicKeyPem } = config.keys;
  // loadServiceConfig already refuses to start without it (needsPrivateKey); this narrows the type.
  if (!privateKeyPem) throw new ConfigError('the monolith signs tokens: set JWT_PRIVATE_KEY_FILE');
  const models = new Models(database.db);
  return {
    models,
    tryLogin: loginGuard(models, config.login),
    sessionLifetimeSeconds: config.sessionLifetimeSeconds,
    signer: createTokenSigner(privateKeyPem),
    verifier: createTokenVerifier(publicKeyPem),
    privateKeyPem,
    logger,
  };
}
