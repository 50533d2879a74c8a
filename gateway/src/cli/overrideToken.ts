import { ConfigError } from '@mythoughts/runtime/errors';
import { MIN_SECRET_LENGTH, parseTtl, signOverrideToken } from '../decide/overrideToken.ts';
import { withPlanStore } from './planStoreFromEnv.ts';
import { parseCommandArgs, type Command } from './command.ts';

const HELP = `Usage: gateway override-token --backend NAME [--ttl 1h] [--file FILE]

Prints a signed token that lets whoever holds it send a request to backend NAME, on any
route that can use it (its split, legacy, or its fallback):

  TOKEN=$(gateway override-token --backend thoughts --ttl 1h)
  curl -H 'X-Gateway-Backend: thoughts' -H "X-Gateway-Override: $TOKEN" http://127.0.0.1:8080/api/thoughts/

Without a valid token (or the JWT of a user listed under testers: in routes.yaml) the
gateway ignores X-Gateway-Backend and strips it. The token is signed with
GATEWAY_OVERRIDE_SECRET, which must be the value the gateway runs with; it names one backend
and expires after --ttl (30m, 1h, 2d; default 1h, at most 7d). Treat it like a password.

Options:
  --backend NAME   a backend of the routes file
  --ttl DURATION   how long the token is valid (default 1h)
  --file FILE      routes file the backend is checked against (default: $GATEWAY_ROUTES, else <repo>/routes.yaml)`;

export const overrideTokenCommand: Command = {
  name: 'override-token',
  summary: 'print a signed token that lets a tester pick a backend (X-Gateway-Backend)',
  help: HELP,
  async run(args) {
    const { values } = parseCommandArgs(args, HELP, { backend: { type: 'string' }, ttl: { type: 'string', default: '1h' }, file: { type: 'string' } });
    if (values.help) return 0;
    const secret = process.env.GATEWAY_OVERRIDE_SECRET ?? '';
    if (secret.length < MIN_SECRET_LENGTH) {
      throw new ConfigError(
        `set GATEWAY_OVERRIDE_SECRET to the gateway's secret (at least ${MIN_SECRET_LENGTH} characters${secret ? `; this one has ${secret.length}` : ''})`,
      );
    }
    if (!values.backend) throw new ConfigError(`--backend is required\n\n${HELP}`);
    const ttl = parseTtl(values.ttl!);
    if (typeof ttl !== 'number') throw new ConfigError(ttl.error);
    const { loaded, location } = await withPlanStore(values.file, async (store) => ({ loaded: await store.read(), location: store.location }));
    if (!loaded.ok) throw new ConfigError(loaded.message);
    const names = loaded.table.backends.map((b) => b.name);
    if (!names.includes(values.backend)) throw new ConfigError(`unknown backend '${values.backend}' in ${location}; allowed: ${names.join(', ')}`);
    const expiresAt = Math.floor(Date.now() / 1000) + ttl;
    process.stdout.write(`${signOverrideToken(secret, values.backend, expiresAt)}\n`);
    process.stderr.write(
      `token for backend ${values.backend}, valid until ${new Date(expiresAt * 1000).toISOString()}; send it as X-Gateway-Override with X-Gateway-Backend: ${values.backend}\n`,
    );
    return 0;
  },
};
