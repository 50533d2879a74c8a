import { readFile } from 'node:fs/promises';
import { ConfigError } from '@mythoughts/runtime/errors';
import type { IgnoreRule } from '../core/jsonPath.ts';
import { replayCase, type CaseResult, type ReplayTarget } from '../replay/replayCase.ts';
import { parseSuite, type ReplayCase, type ReplaySuite } from '../replay/suite.ts';
import { logIn, usersIn } from '../replay/tokens.ts';
import { formatDifferences, type Painter } from '../shadow/diffFormat.ts';
import { ShadowClient } from '../shadow/shadowClient.ts';
import { exitTwoOnConfigError, parseCommandArgs, type Command } from './command.ts';
import { ignoreOptions } from './ignoreOption.ts';
import { painter } from './painter.ts';

const HELP = `Usage: gateway replay SUITE --against URL [--token-for USER[:PASSWORD]]… [options]

Sends each request of SUITE (written by 'gateway mismatches export', '-' for stdin) to URL,
one after the other in the order they were recorded, and compares each answer with the
one the primary gave, exactly as shadow traffic compared the candidate: status, the
route's compared headers, the body (JSON structurally) minus the route's ignore rules; the
noise learnt by the shadow is shown but not counted. Prints a diff per differing case and
a summary line; in CI, run it until the new service replays clean.

  gateway replay suite.json --against http://127.0.0.1:8003 --token-for bruce:password --login http://127.0.0.1:8080
  GATEWAY_REPLAY_PASSWORD=password gateway replay suite.json --against http://127.0.0.1:8001 --token-for bruce

Tokens: a request recorded with a user's bearer token carries 'Bearer {{token:USER}}'.
Each such USER needs a token, one of:
  --token-for USER[:PASSWORD]  log in as USER (POST <login URL>/api/login/ with username and
                               password; the token from its answer); the password after ':'
                               or from $GATEWAY_REPLAY_PASSWORD (kept out of 'ps')
  --token USER=TOKEN           use this token
A suite that needs a token nobody gave is refused before anything is sent.

Options:
  --against URL      where to send the requests (a service, the monolith, or a gateway)
  --login URL        where --token-for logs in (default: the --against URL; a new service
                     that does not log users in needs the gateway's or the monolith's URL)
  --ignore PATH      another body location not compared, e.g. '$[*].timestamp' (repeatable)
  --timeout MS       per answer (default 10000)

A difference the team accepts (a documented legacy quirk, say) is marked in the suite file:
add "accepted": "why" to its case. It is still replayed and its diff shown, as an accepted
difference that does not fail the run.

Secret query values and fields were recorded as '[redacted]' and are sent that way; cookies
were not recorded: a request that needed one is replayed without it. The recorded answers
are those of the data at recording time: replay against a system seeded the same way.

Exit status: 0 every case answered the same (or differs only where accepted), 1 at least
one differs, 2 usage error, a login that failed, or a case the target gave no answer to (and
none differed).`;

const OPTIONS = {
  against: { type: 'string' },
  login: { type: 'string' },
  'token-for': { type: 'string', multiple: true },
  token: { type: 'string', multiple: true },
  ignore: { type: 'string', multiple: true },
  timeout: { type: 'string', default: '10000' },
} as const;

interface ReplayPlan {
  readonly file: string;
  readonly suite: ReplaySuite;
  readonly target: ReplayTarget;
  readonly tokens: ReadonlyMap<string, string>;
  readonly ignore: readonly IgnoreRule[];
  readonly timeoutMs: number;
}

export const replayCommand: Command = {
  name: 'replay',
  summary: 'replay an exported mismatch suite against a service (exit 0 all same, 1 any different)',
  help: HELP,
  run: (args) =>
    exitTwoOnConfigError('replay', async () => {
      const plan = await planReplay(args);
      return plan === null ? 0 : execute(plan, painter());
    }),
};

/** Null when only --help was asked for. */
async function planReplay(args: string[]): Promise<ReplayPlan | null> {
  const { values, positionals } = parseCommandArgs(args, HELP, OPTIONS, true);
  if (values.help) return null;
  if (positionals.length !== 1) throw new ConfigError(`replay takes one SUITE file, got ${positionals.length}\n\n${HELP}`);
  if (values.against === undefined) throw new ConfigError('--against URL is required: the service to send the suite to');
  const target = { name: 'target', origin: originOf(values.against, '--against') };
  const loginUrl = values.login === undefined ? target.origin : originOf(values.login, '--login');
  const timeoutMs = Number(values.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new ConfigError(`--timeout ${values.timeout} is not a number of milliseconds`);
  const ignore = ignoreOptions(values.ignore);

  const file = positionals[0]!;
  const suite = parseSuite(await readSuiteText(file), file === '-' ? 'stdin' : file);
  const given = new Map<string, string>();
  for (const entry of values.token ?? []) {
    const equals = entry.indexOf('=');
    if (equals <= 0) throw new ConfigError(`--token '${entry}' is not USER=TOKEN`);
    given.set(entry.slice(0, equals), entry.slice(equals + 1).replace(/^bearer\s+/i, ''));
  }
  const logins = new Map<string, string | undefined>();
  for (const entry of values['token-for'] ?? []) {
    const colon = entry.indexOf(':');
    logins.set(colon === -1 ? entry : entry.slice(0, colon), colon === -1 ? process.env.GATEWAY_REPLAY_PASSWORD || undefined : entry.slice(colon + 1));
  }
  const needed = usersIn(suite);
  const missing = needed.filter((user) => !given.has(user) && !logins.has(user));
  if (missing.length > 0)
    throw new ConfigError(
      `the suite sends requests as ${missing.join(', ')}: give a token with ${missing.map((user) => `--token-for ${user}`).join(' ')} (logs in at ${loginUrl}) or --token USER=TOKEN`,
    );
  const tokens = new Map(given);
  for (const user of needed.filter((name) => !given.has(name))) {
    const password = logins.get(user);
    if (password === undefined) throw new ConfigError(`no password to log in as ${user}: write --token-for ${user}:PASSWORD or set GATEWAY_REPLAY_PASSWORD`);
    tokens.set(user, await logIn(loginUrl, user, password, timeoutMs));
  }
  return { file, suite, target, tokens, ignore, timeoutMs };
}

function originOf(text: string, option: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`${option} ${text} is not a URL like http://127.0.0.1:8003`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`${option} ${text} must be an http:// or https:// URL`);
  return url.origin;
}

async function readSuiteText(file: string): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

async function execute(plan: ReplayPlan, paint: Painter): Promise<number> {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const { cases } = plan.suite;
  out(`replaying ${plan.file === '-' ? 'stdin' : plan.file} against ${plan.target.origin} (${cases.length} case${cases.length === 1 ? '' : 's'})`);
  const client = new ShadowClient();
  const counts = { same: 0, different: 0, accepted: 0, 'no answer': 0 };
  try {
    for (const [i, replay] of cases.entries()) {
      const result = await replayCase(client, plan.target, replay, plan.tokens, plan.ignore, plan.timeoutMs);
      counts[result.outcome === 'different' && replay.accepted !== undefined ? 'accepted' : result.outcome]++;
      for (const line of describe(i + 1, replay, result, paint)) out(line);
    }
  } finally {
    await client.close();
  }
  const more = [counts.accepted > 0 ? `${counts.accepted} accepted` : '', counts['no answer'] > 0 ? `${counts['no answer']} without an answer` : ''];
  out([`${cases.length} case${cases.length === 1 ? '' : 's'}: ${counts.same} same`, `${counts.different} different`, ...more.filter(Boolean)].join(', '));
  return counts.different > 0 ? 1 : counts['no answer'] > 0 ? 2 : 0;
}

function describe(number: number, replay: ReplayCase, result: CaseResult, paint: Painter): string[] {
  const head = `${String(number).padStart(3)}. ${replay.name}`;
  if (result.outcome === 'no answer') return [`${head}  NO ANSWER`, `       ${result.reason}`];
  const { expect } = replay;
  const label =
    replay.accepted === undefined
      ? result.outcome
      : result.outcome === 'same'
        ? 'same (marked accepted, but it no longer differs: the mark can go)'
        : `accepted difference (${replay.accepted})`;
  const lines = [`${head}  ${label}`];
  const noise = result.noisy.length > 0 ? `; noise, not counted: ${result.noisy.map((d) => d.where).join(', ')}` : '';
  if (result.outcome === 'same') return noise === '' ? lines : [...lines, `       ${noise.slice(2)}`];
  lines.push(
    `       ${paint.primary(`recorded (${expect.backend}) ${expect.status}, ${expect.bodyBytes} bytes`)} → ${paint.candidate(`now ${result.answer.status}, ${result.answer.bodyBytes} bytes`)}${noise}`,
  );
  for (const line of formatDifferences(result.real, paint)) lines.push(`       ${line}`);
  return lines;
}
