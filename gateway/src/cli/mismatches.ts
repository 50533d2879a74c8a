import { ConfigError } from '@mythoughts/runtime/errors';
import type { MismatchesPage } from '../shadow/findingsReport.ts';
import { hurlSuite } from '../replay/hurlSuite.ts';
import { SUITE_FORMAT, suiteCases, type ReplaySuite } from '../replay/suite.ts';
import { AdminClient } from './adminClient.ts';
import { exitTwoOnConfigError, parseCommandArgs, type Command } from './command.ts';

const HELP = `Usage: gateway mismatches export [--route ROUTE] [--format json|hurl] [--admin URL] > SUITE

Writes the shadow mismatches a running gateway has recorded (its last 100) as a regression
suite on standard output: per distinct request its method, path and query, the headers
and body to send again, the answer the primary gave, and the route's comparison rules in
force (compared headers, ignore rules, the noise learnt so far). Replay it against a
service with 'gateway replay SUITE --against URL' (json), or with hurl itself (hurl).

Secrets stay out of the file: a bearer token becomes the placeholder
'Bearer {{token:USERNAME}}' that the replay fills with a fresh token of that user (a token
that does not verify, and any other credential, becomes '[redacted]'); cookies, proxy
headers and headers named like a secret (X-Api-Key…) are dropped; password-like query
values and body fields are '[redacted]'; tokens in answers too.

Only reads (GET, HEAD, OPTIONS) are exported, unless the route's shadow mirrors writes
(allow_writes with POST… in its methods); left-out mismatches are listed on stderr.

Options:
  --route ROUTE     only this route's mismatches
  --format FORMAT   json (default: what 'gateway replay' reads) or hurl (https://hurl.dev)
  --admin URL       the gateway's admin API (default: $GATEWAY_ADMIN_URL, else http://127.0.0.1:9901);
                    with GATEWAY_ADMIN_TOKEN set, it is sent

Exit status: 0 written (also an empty suite), 2 usage error or no admin API to read.`;

const OPTIONS = {
  route: { type: 'string' },
  format: { type: 'string', default: 'json' },
  admin: { type: 'string' },
} as const;

export const mismatchesCommand: Command = {
  name: 'mismatches',
  summary: 'export the recorded shadow mismatches as a replayable suite (json or hurl)',
  help: HELP,
  run: (args) => exitTwoOnConfigError('mismatches', () => exportSuite(args)),
};

async function exportSuite(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, HELP, OPTIONS, true);
  if (values.help) return 0;
  if (positionals.length !== 1 || positionals[0] !== 'export') throw new ConfigError(`the one subcommand is 'export'\n\n${HELP}`);
  if (values.format !== 'json' && values.format !== 'hurl') throw new ConfigError(`--format ${values.format} is not known; allowed: json, hurl`);
  const client = values.admin === undefined ? AdminClient.fromEnv() : AdminClient.fromEnv({ ...process.env, GATEWAY_ADMIN_URL: values.admin });
  const query = values.route === undefined ? '' : `?route=${encodeURIComponent(values.route)}`;
  const reply = await client.get<MismatchesPage>(`/api/shadow/mismatches${query}`);
  if (!reply.ok) throw new ConfigError(reply.reason);
  if (values.route !== undefined && !reply.value.rules[values.route] && reply.value.mismatches.length === 0) {
    const shadowed = Object.keys(reply.value.rules);
    throw new ConfigError(`route '${values.route}' has no shadow in the running plan; shadowed routes: ${shadowed.length > 0 ? shadowed.join(', ') : 'none'}`);
  }
  const { cases, left } = suiteCases(reply.value, values.route);
  const suite: ReplaySuite = { format: SUITE_FORMAT, exportedAt: new Date().toISOString(), source: client.baseUrl, cases };
  process.stdout.write(values.format === 'hurl' ? hurlSuite(suite) : `${JSON.stringify(suite, null, 2)}\n`);
  const from = values.route === undefined ? '' : ` of route ${values.route}`;
  process.stderr.write(`exported ${cases.length} case${cases.length === 1 ? '' : 's'}${from} from ${client.baseUrl}\n`);
  for (const reason of left) process.stderr.write(`  left out: ${reason}\n`);
  return 0;
}
