import { IgnoreRule } from '../core/jsonPath.ts';
import type { CapturedResponse } from '../shadow/capturedResponse.ts';
import { splitNoise, type Difference } from '../shadow/difference.ts';
import { answerView, type AnswerView } from '../shadow/mismatchStore.ts';
import type { ShadowClient } from '../shadow/shadowClient.ts';
import { ShadowComparator } from '../shadow/shadowComparator.ts';
import type { ExpectedAnswer, ReplayCase } from './suite.ts';
import { fillTokens } from './tokens.ts';

export type CaseResult =
  | { readonly outcome: 'same' | 'different'; readonly answer: AnswerView; readonly real: readonly Difference[]; readonly noisy: readonly Difference[] }
  | { readonly outcome: 'no answer'; readonly reason: string };

export interface ReplayTarget {
  readonly name: string;
  readonly origin: string;
}

/** Read whole: the answer is cut to what a record keeps afterwards, as the recorded one was. */
const READ_LIMIT_BYTES = 16 * 1024 * 1024;

/**
 * Sends one case's request to the target and compares the answer with the recorded one the
 * way the shadow compared the candidate: the same ShadowComparator with the case's headers
 * and ignore rules, the learnt noise shown but not counted. The target's answer first goes
 * through what a mismatch record does to an answer (secrets redacted, body cut at the
 * record's cap), so both sides are compared in the same form.
 */
export async function replayCase(
  client: ShadowClient,
  target: ReplayTarget,
  replay: ReplayCase,
  tokens: ReadonlyMap<string, string>,
  extraIgnore: readonly IgnoreRule[],
  timeoutMs: number,
): Promise<CaseResult> {
  const headers = Object.fromEntries(Object.entries(replay.request.headers).map(([name, value]) => [name, fillTokens(value, tokens)]));
  const body = replay.request.body === null ? null : Buffer.from(replay.request.body);
  const outcome = await client.send(
    target,
    { method: replay.request.method, target: replay.request.target, headers, body },
    { timeoutMs, maxBodyBytes: READ_LIMIT_BYTES },
  );
  if (!outcome.ok) return { outcome: 'no answer', reason: outcome.reason };
  const answer = answerView(outcome);
  // parseSuite has checked every rule of the file.
  const ignore = [...replay.compare.ignore.map((text) => IgnoreRule.parse(text) as IgnoreRule), ...extraIgnore];
  const comparator = new ShadowComparator({ headers: replay.compare.headers, ignore });
  const noise = new Set(replay.compare.noise);
  const { real, noisy } = splitNoise(comparator.compare(asCaptured(replay.expect), asCaptured(answer)), (difference) => noise.has(difference.key));
  return { outcome: real.length === 0 ? 'same' : 'different', answer, real, noisy };
}

function asCaptured(answer: ExpectedAnswer): CapturedResponse {
  return { ok: true, ...answer, body: Buffer.from(answer.body), ms: 0 };
}
