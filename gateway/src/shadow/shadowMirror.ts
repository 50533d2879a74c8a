import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Backend, ShadowPlan } from '../config/routeTable.ts';
import { SHADOW_HEADER } from '../core/controlHeaders.ts';
import { SAFE_METHODS } from '../core/httpMethods.ts';
import type { Exchange } from '../exchange.ts';
import type { ResponseStep } from '../forward/responseSteps.ts';
import type { GatewayMetrics } from '../observe/metrics.ts';
import { traceShadowCopy, type RequestTracing } from '../observe/tracing.ts';
import { flattenHeaders, ResponseTap, type CapturedResponse, type ResponseOutcome } from './capturedResponse.ts';
import type { Difference } from './difference.ts';
import { formatDifferences } from './diffFormat.ts';
import { answerView, type MismatchStore } from './mismatchStore.ts';
import type { NoiseModel } from './noiseModel.ts';
import { claimedUsername, recordRequest, type TokenIdentifier } from './recordedRequest.ts';
import type { CachedTokenVerifier } from '../decide/tokenCache.ts';
import { redactSecrets } from './secrets.ts';
import type { OutgoingCopy, ShadowClient } from './shadowClient.ts';
import { ShadowComparator } from './shadowComparator.ts';

export type ShadowResult = 'match' | 'mismatch' | 'error' | 'skipped';

/** What the mirror has found: the recent mismatches and the places learnt as noise. */
export interface ShadowFindings {
  readonly store: MismatchStore;
  readonly noise: NoiseModel;
}

export interface ShadowMirrorDeps extends ShadowFindings {
  readonly client: ShadowClient;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** 0 ≤ x < 1; replaceable so tests can sample deterministically. */
  readonly random?: () => number;
  /** Gives each copy a span of its own when tracing is on (null: off). */
  readonly tracing?: RequestTracing | null;
  /** Verifies the bearer token of a recorded request, whose placeholder names its user; without it the token's claim is taken unverified. */
  readonly tokens?: CachedTokenVerifier | null;
}

/**
 * Shadow traffic: copies of a route's requests sent to a candidate backend off the client's
 * path, and each candidate answer compared with the primary's once both are complete.
 *
 * The client never waits: the copy goes out on its own connection pool (ShadowClient), the
 * primary's answer is read on the side as it streams to the client (ResponseTap), and the
 * comparison runs after both have ended. Copies are bounded per route by `max_in_flight`;
 * a request arriving when they are all taken is not mirrored and counts as `skipped` —
 * nothing ever queues.
 */
export class ShadowMirror {
  private readonly inFlight = new Map<string, number>();
  private readonly comparators = new WeakMap<ShadowPlan, ShadowComparator>();
  private readonly random: () => number;
  private readonly identify: TokenIdentifier;
  private closed = false;

  constructor(private readonly deps: ShadowMirrorDeps) {
    this.random = deps.random ?? Math.random;
    const tokens = deps.tokens ?? null;
    this.identify = tokens === null ? claimedUsername : (token) => tokens.usernameOf(token);
  }

  /**
   * Decides whether this request is mirrored; if so reserves its slots and taps the primary's
   * answer. The caller then calls `send` with the request body (or `skip`). Null: not mirrored.
   * Call after the request headers are prepared for forwarding: the copy carries the same ones.
   */
  prepare(exchange: Exchange, req: IncomingMessage, res: ServerResponse, plan: ShadowPlan, primary: Backend): ShadowTrip | null {
    if (this.closed || primary === plan.to || !plan.methods.has(exchange.method)) return null;
    if (plan.percent < 100 && this.random() * 100 >= plan.percent) return null;
    const route = exchange.routeName;
    const used = this.inFlight.get(route) ?? 0;
    if (used >= plan.maxInFlight) {
      this.skipped(exchange, `max_in_flight (${plan.maxInFlight}) copies already running`);
      return null;
    }
    // A noise sample sends the request to the primary a second time: only for safe methods,
    // and only when a slot is free for it too.
    const sampleNoise = plan.noisePercent > 0 && SAFE_METHODS.has(exchange.method) && used + 2 <= plan.maxInFlight && this.random() * 100 < plan.noisePercent;
    const slots = sampleNoise ? 2 : 1;
    this.inFlight.set(route, used + slots);
    const tap = new ResponseTap(plan.maxBodyBytes, res, () => exchange.failure ?? 'the client left before the answer');
    return new ShadowTrip(this, exchange, req, plan, primary, tap, sampleNoise, slots);
  }

  /** Stops mirroring and cuts copies still running: shutdown never waits for a slow shadow. */
  async close(): Promise<void> {
    this.closed = true;
    await this.deps.client.close();
  }

  /** @internal ShadowTrip's way to send a copy; the slot is released when the answer is in. */
  sendCopy(exchange: Exchange, backend: Backend, copy: OutgoingCopy, plan: ShadowPlan): Promise<ResponseOutcome> {
    const headers = { ...copy.headers };
    const endSpan = traceShadowCopy(this.deps.tracing ?? null, exchange, backend, headers);
    const sent = this.deps.client.send(backend, { ...copy, headers }, plan).finally(() => this.release(exchange.routeName, 1));
    if (endSpan === null) return sent;
    return sent.then((outcome) => {
      endSpan(outcome.ok ? outcome.status : null, outcome.ok ? null : outcome.reason);
      return outcome;
    });
  }

  /** @internal */
  release(route: string, slots: number): void {
    const left = (this.inFlight.get(route) ?? slots) - slots;
    if (left > 0) this.inFlight.set(route, left);
    else this.inFlight.delete(route);
  }

  /** @internal A request that was to be mirrored but is not: counted, never queued. */
  skipped(exchange: Exchange, reason: string): void {
    this.count(exchange.routeName, 'skipped');
    this.deps.logger.debug({ reqId: exchange.requestId, route: exchange.routeName, reason }, `shadow skipped: ${reason}`);
  }

  private count(route: string, result: ShadowResult): void {
    this.deps.metrics.shadowComparisons.labels(route, result).inc();
  }

  /**
   * @internal Runs once the primary, the candidate and any noise sample have all answered (or
   * failed). It runs outside any request: a fault here (say, a body nested too deep to walk)
   * must cost one comparison, counted and logged, never the gateway process.
   */
  conclude(trip: ShadowTrip, primary: ResponseOutcome, candidate: ResponseOutcome, second: ResponseOutcome | null): void {
    try {
      this.compareAndRecord(trip, primary, candidate, second);
    } catch (error) {
      this.count(trip.exchange.routeName, 'error');
      this.deps.logger.error(
        { reqId: trip.exchange.requestId, route: trip.exchange.routeName, err: error },
        `shadow comparison failed: ${(error as Error).message}`,
      );
    }
  }

  private compareAndRecord(trip: ShadowTrip, primary: ResponseOutcome, candidate: ResponseOutcome, second: ResponseOutcome | null): void {
    const { exchange, plan } = trip;
    const route = exchange.routeName;
    const context = { reqId: exchange.requestId, route, method: exchange.method, path: exchange.path };
    if (!primary.ok || !candidate.ok) {
      this.count(route, 'error');
      const reason = primary.ok ? (candidate as { reason: string }).reason : primary.reason;
      this.deps.logger.warn({ ...context, shadow: plan.to.name, reason }, `shadow comparison not possible: ${reason}`);
      return;
    }
    const comparator = this.comparatorFor(plan);
    if (second !== null) this.learnNoise(route, comparator, primary, second, context);
    const noisy: Difference[] = [];
    const real: Difference[] = [];
    for (const difference of comparator.compare(primary, candidate)) (this.deps.noise.isNoise(route, difference) ? noisy : real).push(difference);
    if (real.length === 0) return this.count(route, 'match');
    this.count(route, 'mismatch');
    const diff = formatDifferences(real).map(redactSecrets);
    this.deps.store.add({
      at: new Date().toISOString(),
      route,
      requestId: exchange.requestId,
      request: recordRequest(trip.copy!, this.identify),
      primary: answerView(primary),
      candidate: answerView(candidate),
      differences: real,
      diff,
      noise: noisy.map((difference) => difference.where),
    });
    this.deps.logger.warn(
      { ...context, primary: { backend: primary.backend, status: primary.status }, candidate: { backend: candidate.backend, status: candidate.status }, diff },
      `shadow mismatch on ${route}: ${real.length} difference${real.length === 1 ? '' : 's'}, first ${diff[0]}`,
    );
  }

  private learnNoise(route: string, comparator: ShadowComparator, primary: CapturedResponse, second: ResponseOutcome, context: object): void {
    if (!second.ok) {
      this.deps.logger.debug({ ...context, reason: second.reason }, 'shadow noise sample lost: the second primary request failed');
      return;
    }
    const differences = comparator.compare(primary, second);
    this.deps.metrics.shadowNoiseSamples.labels(route, differences.length === 0 ? 'stable' : 'noisy').inc();
    const learnt = this.deps.noise.learn(route, differences);
    if (learnt > 0)
      this.deps.logger.info(
        { ...context, noise: differences.map((d) => d.key) },
        `shadow noise on ${route}: the primary itself answers these places differently; they no longer count as mismatches`,
      );
  }

  private comparatorFor(plan: ShadowPlan): ShadowComparator {
    let comparator = this.comparators.get(plan);
    if (!comparator) this.comparators.set(plan, (comparator = new ShadowComparator(plan)));
    return comparator;
  }
}

/** One mirrored request: its reserved slots, the tap on the primary, and the copies once sent. */
class ShadowTrip {
  /** What was sent to the candidate (null until sent): a mismatch record keeps a redacted copy of it. */
  copy: OutgoingCopy | null = null;
  private skippedCopy = false;

  /** The response step that taps the primary's answer (run before the others: it sees the head as the back end sent it). */
  readonly tapStep: ResponseStep = (head) => {
    if (!this.skippedCopy) (head.observers ??= []).push(this.tap.observe(head));
  };

  constructor(
    private readonly mirror: ShadowMirror,
    readonly exchange: Exchange,
    private readonly req: IncomingMessage,
    readonly plan: ShadowPlan,
    private readonly primary: Backend,
    private readonly tap: ResponseTap,
    private readonly sampleNoise: boolean,
    private readonly slots: number,
  ) {}

  /** Sends the copies (with the request body, already read within the cap, or none). */
  send(body: Buffer | null): void {
    if (body !== null && body.length > this.plan.maxBodyBytes)
      return this.skip(`the request body (${body.length} bytes) is over shadow max_body_bytes (${this.plan.maxBodyBytes})`);
    const copy: OutgoingCopy = {
      method: this.exchange.method,
      target: this.req.url ?? this.exchange.path,
      headers: { ...flattenHeaders(this.req.headers), [SHADOW_HEADER]: '1' },
      body,
    };
    this.copy = copy;
    const candidate = this.mirror.sendCopy(this.exchange, this.plan.to, copy, this.plan);
    const second = this.sampleNoise ? this.mirror.sendCopy(this.exchange, this.primary, copy, this.plan) : Promise.resolve(null);
    void Promise.all([this.tap.outcome, candidate, second]).then(([p, c, s]) => setImmediate(() => this.mirror.conclude(this, p, c, s)));
  }

  /** The request cannot be mirrored after all (its body is over the cap, or the client left). */
  skip(reason: string): void {
    this.skippedCopy = true;
    this.mirror.release(this.exchange.routeName, this.slots);
    this.mirror.skipped(this.exchange, reason);
  }
}
