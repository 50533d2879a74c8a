import { createTokenSigner } from '@mythoughts/runtime/tokens';
import { cohortCookie } from '../../gateway/test/helpers/cohort.ts';
import { named, type FaultCase } from '../case.ts';
import { jwtAttacks } from '../corpora/jwtAttacks.ts';
import { startStand } from '../stand.ts';

/** Clients (cohort cookies) each attack is sent as through the gateway at 50 %: both sides answer some. */
const GATEWAY_CLIENTS = 4;

/**
 * The JWT attack corpus on GET and POST /api/me/thoughts/ against the monolith, the thoughts
 * service and the gateway in front of both (the users service verifies no token: it signs them,
 * at login). Every one must be 401; a valid token must be served by each, or the 401s prove
 * nothing.
 */
export const jwtAttacksCase: FaultCase = {
  name: 'jwt',
  summary: 'the JWT attack corpus against the monolith, the thoughts service and the gateway → answers other than 401',
  async run({ repeat }) {
    const stand = await startStand({ shares: { users: 50, thoughts: 50 } });
    try {
      const { system } = stand;
      const targets: Record<string, { url: string; clients: number }> = {
        monolith: { url: system.legacyUrl, clients: 1 },
        'thoughts service': { url: system.thoughtsUrl, clients: 1 },
        gateway: { url: stand.gateway.url, clients: GATEWAY_CLIENTS },
      };
      const attacks = Object.entries(jwtAttacks(system));
      const wrong: string[] = [];
      let tried = 0;
      const ask = async (url: string, method: string, headers: Record<string, string>) => {
        const response = await fetch(`${url}/api/me/thoughts/`, {
          method,
          headers: { ...headers, 'content-type': 'application/json' },
          body: method === 'POST' ? JSON.stringify({ text: 'should never be stored' }) : undefined,
        });
        await response.arrayBuffer();
        return response.status;
      };
      const valid = `Bearer ${createTokenSigner(system.privateKeyPem).sign('bruce')}`;
      for (const [target, { url, clients }] of Object.entries(targets)) {
        for (let client = 0; client < clients; client++) {
          const cookie = cohortCookie(`jwt-${client}`);
          const control = await ask(url, 'GET', { authorization: valid, cookie });
          if (control !== 200) wrong.push(`${target}: a valid token answered ${control}, not 200`);
          for (let round = 0; round < repeat; round++)
            for (const [name, authorization] of attacks)
              for (const method of ['GET', 'POST']) {
                tried++;
                const status = await ask(url, method, { cookie, ...(authorization === undefined ? {} : { authorization }) });
                if (status !== 401) wrong.push(`${target}: ${method} with ${name} answered ${status}`);
              }
        }
      }
      return {
        tried,
        failed: wrong.length,
        detail: `${attacks.length} attacks × GET/POST against ${Object.keys(targets).join(', ')}${repeat > 1 ? ` × ${repeat}` : ''} (a valid token served by each): ${tried - wrong.length} answered 401${named(wrong)}`,
      };
    } finally {
      await stand.stop();
    }
  },
};
