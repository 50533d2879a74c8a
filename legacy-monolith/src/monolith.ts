import type { Logger } from 'pino';
import type { ServiceContext } from '@mythoughts/shared/http/service';
import { LoginThrottle } from '@mythoughts/shared/stores/loginThrottle';
import { SessionStore } from '@mythoughts/shared/stores/sessions';
import { ThoughtStore } from '@mythoughts/shared/stores/thoughts';
import { UserStore } from '@mythoughts/shared/stores/users';
import { ConfigError } from '@mythoughts/runtime/errors';
import { createTokenSigner, createTokenVerifier, type TokenSigner, type TokenVerifier } from '@mythoughts/runtime/tokens';

/** What the monolith's API and site handlers work with, built once per process. */
export interface Monolith {
  users: UserStore;
  thoughts: ThoughtStore;
  sessions: SessionStore;
  /** Failed logins counted per username and address, shared by the site, the API and the users service. */
  loginThrottle: LoginThrottle;
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
    sessions: new SessionStore(database.db, config.sessionLifetimeSeconds),
    loginThrottle: new LoginThrottle(database.db, config.login),
    signer: createTokenSigner(privateKeyPem),
    verifier: createTokenVerifier(publicKeyPem),
    privateKeyPem,
    logger,
  };
}
