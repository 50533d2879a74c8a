import path from 'node:path';
import { REPO_ROOT } from './paths.ts';

/**
 * Reading a V8 `.cpuprofile` (what `node --cpu-prof` writes): the samples of a time window
 * as folded stacks (`frame;frame;frame` → milliseconds, the input of a flame graph), and each
 * sample given to one stage of the request path, for the per-stage cost table.
 */
interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  /** Microseconds, on the profiler's monotonic clock. */
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Samples of the window, as stacks of frame names (root first), with the milliseconds each stands for. */
export interface FoldedProfile {
  readonly stacks: ReadonlyMap<string, number>;
  /** Milliseconds of the window the main thread was busy (idle samples left out). */
  readonly busyMs: number;
  readonly windowMs: number;
}

const IGNORED_ROOTS = new Set(['(root)', '(idle)']);

/**
 * Folds the samples taken from `fromStartMs` after the profile's start for `lengthMs` (so
 * startup and shutdown stay out; the profile starts as the process does). Frames are
 * `name file:line`, the file relative to the repository, node's own modules as `node:…`.
 */
export function foldProfile(profile: CpuProfile, window: { readonly fromStartMs: number; readonly lengthMs: number }): FoldedProfile {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const stackOf = new Map<number, string | null>();
  const stack = (id: number): string | null => {
    let known = stackOf.get(id);
    if (known !== undefined) return known;
    const names: string[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = frameName(byId.get(at)!.callFrame);
      if (!IGNORED_ROOTS.has(name)) names.push(name);
      else if (name === '(idle)') names.length = 0;
    }
    known = names.length === 0 ? null : names.reverse().join(';');
    stackOf.set(id, known);
    return known;
  };
  const windowStart = profile.startTime + window.fromStartMs * 1000;
  const windowEnd = windowStart + window.lengthMs * 1000;
  const stacks = new Map<string, number>();
  let busyMs = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i]!;
    if (at < windowStart || at > windowEnd) continue;
    // A sample stands for the time until the next one.
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const folded = stack(profile.samples[i]!);
    if (folded === null) continue;
    stacks.set(folded, (stacks.get(folded) ?? 0) + ms);
    busyMs += ms;
  }
  return { stacks, busyMs, windowMs: window.lengthMs };
}

function frameName(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  if (frame.url === '') return name;
  let file = frame.url.replace(/^file:\/\//, '');
  if (file.startsWith(REPO_ROOT)) file = path.relative(REPO_ROOT, file).replace(/^node_modules\//, '');
  return `${name} ${file}:${frame.lineNumber + 1}`.replaceAll(';', ',');
}

/** The request path's stages, in the order a request goes through them, for the cost table. */
export const STAGES = [
  { stage: 'accept + parse the client request (node:http, llhttp)', files: [] },
  { stage: 'handler: exchange, request id, tracing check', files: ['gateway/src/publicHandler.ts', 'gateway/src/exchange.ts', 'packages/shared/'] },
  { stage: 'normalise + match', files: ['gateway/src/resolveRoute.ts', 'gateway/src/match/', 'gateway/src/config/'] },
  { stage: 'decide (cohort key, HMAC, hash, override)', files: ['gateway/src/decide/', 'gateway/src/core/'] },
  { stage: 'request headers + body plan', files: ['gateway/src/forward/headers.ts', 'gateway/src/forward/replayBody.ts', 'gateway/src/forward/clientBody.ts'] },
  { stage: 'attempt: dispatch, deadlines, response head steps, write', files: ['gateway/src/forward/'] },
  { stage: 'undici (upstream connection, its parser)', files: ['undici/'] },
  { stage: 'observe: metrics', files: ['gateway/src/observe/metrics.ts', 'gateway/src/observe/requestCounters.ts', 'prom-client/'] },
  { stage: 'observe: access log', files: ['gateway/src/observe/accessLog.ts', 'pino/', 'sonic-boom/'] },
  { stage: 'observe: recent traffic (window, clients)', files: ['gateway/src/observe/'] },
  { stage: 'observers: the close listener, the rest', files: ['gateway/src/gateway.ts', 'gateway/src/'] },
  { stage: 'bench pass-through script', files: ['bench/'] },
  { stage: 'garbage collection', files: [] },
  { stage: 'node:http response, sockets, timers (not under a stage above)', files: [] },
] as const;

export type Stage = (typeof STAGES)[number]['stage'];

/**
 * The stage a sample belongs to: that of the innermost frame of the repository's own code
 * or undici on its stack (what node does on that code's behalf counts for it); GC apart; a
 * stack with neither is node's own HTTP work, told apart by whether the client's parser is in it.
 */
export function stageOf(stack: string): Stage {
  const frames = stack.split(';');
  if (frames[frames.length - 1] === '(garbage collector)') return 'garbage collection';
  for (let i = frames.length - 1; i >= 0; i--) {
    const file = frames[i]!.slice(frames[i]!.lastIndexOf(' ') + 1);
    const stage = STAGES.find((s) => s.files.some((prefix) => file.startsWith(prefix)));
    if (stage) return stage.stage;
  }
  return frames.some((f) => f.startsWith('parserOnIncoming ') || f.startsWith('connectionListener')) ? STAGES[0].stage : STAGES[STAGES.length - 1]!.stage;
}

/** Milliseconds per stage over the folded samples. */
export function stageMs(folded: FoldedProfile): Map<Stage, number> {
  const result = new Map<Stage, number>();
  for (const [stack, ms] of folded.stacks) {
    const stage = stageOf(stack);
    result.set(stage, (result.get(stage) ?? 0) + ms);
  }
  return result;
}
