import type { Logger } from 'pino';
import type { ServiceContext } from '@mythoughts/shared/http/service';
import { SessionStore } from '@mythoughts/shared/stores/sessions';
import { ThoughtStore } from '@mythoughts/shared/stores/thoughts';
import { UserStore } from '@mythoughts/shared/stores/users';
import { ConfigError } from '@mythoughts/shared/errors';
import {
  createTokenSigner,
  createTokenVerifier,
  type TokenSigner,
  type TokenVerifier,
} from '@mythoughts/shared/tokens';

/** What the monolith's API and site handlers work with, built once per process. */
export interface Monolith {
  users: UserStore;
  thoughts: ThoughtStore;
  sessions: SessionStore;
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
  return {
    users: new UserStore(database.db),
    thoughts: new ThoughtStore(database.db),
    sessions: new SessionStore(database.db),
    signer: createTokenSigner(privateKeyPem),
    verifier: createTokenVerifier(publicKeyPem),
    privateKeyPem,
    logger,
  };
}
