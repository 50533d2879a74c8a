import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { closest } from '../config/problems.ts';
import type { Route, RouteTable } from '../config/routeTable.ts';
import type { RolloutConfig } from '../config/routesConfig.ts';
import type { Refusal } from '../plan/planChange.ts';
import type { PlanStore } from '../plan/planStore.ts';
import { splitOf } from '../plan/splitPercents.ts';
import {
  abortRollout,
  decideStep,
  pauseRollout,
  promoteRollout,
  restartRollout,
  resumeRollout,
  splitEditedByHand,
  startRollout,
  type RolloutDecision,
  type RolloutEventKind,
} from './decideStep.ts';
import type { GateQuery, GateReader } from './gateReader.ts';
import { describeGates, evaluateGates, verdictOf, type GateResult } from './gates.ts';
import type { Notifier } from './notifier.ts';
import { EVENTS_KEPT, type CheckRecord, type Leadership, type ProgressStore, type RolloutEvent, type RouteProgress } from './progress.ts';
import type { RolloutMetrics } from './rolloutMetrics.ts';
import type { CommandResult, RolloutCommand, RolloutControl } from './rolloutControl.ts';
import { rolloutView, type RolloutView } from './rolloutView.ts';

/** How often an interval that waits for the fleet to serve a step's plan asks again. */
const CONVERGENCE_POLL_MS = 250;

export interface RolloutControllerOptions {
  readonly store: Pick<PlanStore, 'read' | 'change'>;
  readonly progress: ProgressStore;
  readonly reader: GateReader;
  readonly metrics: RolloutMetrics;
  readonly notifier: Notifier;
  readonly logger: Logger;
  /** The fleet leader's election key: every plan and progress write carries it, so a deposed leader's write fails. Null: the only controller (a file plan). */
  readonly leadership?: Leadership | null;
  /** Why no check or command may run now (the store unreachable, leadership lost), or null; asked before each. */
  readonly holdReason?: () => Promise<string | null>;
  /** The fleet's replicas, when there are several: a step is judged only once every live one serves the plan it wrote. */
  readonly fleet?: FleetPlans;
  /** Who the controller's own steps and rollbacks are by in the audit: `rollout` by default; in a fleet `rollout@<replica id>`, the leader that wrote them. */
  readonly actor?: string;
}

/** The replicas of a fleet, as far as the rollout needs them. */
export interface FleetPlans {
  /** The live replicas that do not serve plan `version` (yet), each as `id (serves 1a2b3c4d5e6f)`; empty when all do. */
  notServing(version: string): Promise<readonly string[]>;
}

/** A route under rollout as the last read of routes.yaml shows it. */
interface Watched {
  readonly route: Route;
  readonly config: RolloutConfig;
  readonly table: RouteTable;
  /** The file's version that read saw: every write expects it (a human edit since wins). */
  readonly version: string;
}

/**
 * Runs every route's `rollout:` block, off the request path: one timer per route; at the end
 * of each interval it reads the gates, asks decideStep what to do, and writes the step or the
 * rollback through the PlanStore (validated, atomic, audited, compare-and-write). Everything
 * runs one at a time, so a check, a command and a change of routes.yaml never interleave.
 */
export class RolloutController implements RolloutControl {
  private progress: Record<string, RouteProgress> = {};
  private readonly watched = new Map<string, Watched>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly nextCheckAt = new Map<string, number>();
  /** Routes whose interval waits for replicas to serve the last step's plan, and which. */
  private readonly waitingFor = new Map<string, readonly string[]>();
  /** Why nothing is judged now (holdReason's last answer). */
  private holding: string | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: RolloutControllerOptions) {}

  private get actor(): string {
    return this.options.actor ?? 'rollout';
  }

  /** Reads the progress file and routes.yaml, and resumes every rollout where it stood. */
  async start(): Promise<void> {
    this.progress = await this.options.progress.read();
    await this.serial(() => this.sync());
  }

  /** routes.yaml may have changed (file watch, reload): a human edit pauses, an edited block restarts. */
  planChanged(): void {
    void this.serial(() => this.sync());
  }

  /** Every rollout, or the one of `route` (404 when it has none); with a holdReason, `holding` is asked afresh (the store may have gone since the last check). */
  async status(route?: string): Promise<RolloutView[] | ({ ok: false } & Refusal)> {
    if (this.options.holdReason) await this.holds();
    if (route !== undefined) return this.watched.has(route) && this.progress[route] ? [this.viewOf(route)] : this.unknown(route);
    return Object.keys(this.progress)
      .filter((name) => this.watched.has(name))
      .map((name) => this.viewOf(name));
  }

  private viewOf(name: string): RolloutView {
    const waiting = this.waitingFor.get(name);
    const holding = this.holding ?? (waiting ? `waiting for ${waiting.join(', ')} to serve the plan of this step before its interval starts` : null);
    return rolloutView(name, this.progress[name]!, this.watched.get(name)!.config, this.nextCheckAt.get(name) ?? null, holding);
  }

  /** A single controller has nobody to tell where it listens. */
  listening(): void {}

  /** pause | resume | promote | abort | restart, by a human (CLI, admin API, dashboard). */
  command(route: string, command: RolloutCommand, who: string, reason: string | null): Promise<CommandResult> {
    return this.serial(async () => {
      if (await this.holds()) return { ok: false, status: 503, message: `rollout of ${route}: ${this.holding}` } as const;
      await this.sync();
      const progress = this.progress[route];
      const watched = this.watched.get(route);
      if (!progress || !watched) return this.unknown(route);
      const by = `${command} by ${who}${reason ? `: ${reason}` : ''}`;
      const percent = percentOf(watched.route, watched.config.backend);
      const decision =
        command === 'pause'
          ? pauseRollout(progress.state, `paused by ${who}${reason ? `: ${reason}` : ''}`)
          : command === 'resume'
            ? resumeRollout(progress.state, watched.config)
            : command === 'promote'
              ? promoteRollout(progress.state, watched.config)
              : command === 'abort'
                ? abortRollout(progress.state, `aborted by ${who}${reason ? `: ${reason}` : ''}; rolled back to 0%`)
                : restartRollout(watched.config, percent);
      if (typeof decision === 'string') return { ok: false, status: 409, message: `rollout of ${route}: ${decision}` } as const;
      const written = await this.apply(
        route,
        { ...decision, reason: decision.reason.includes(who) ? decision.reason : `${decision.reason} (${by})` },
        null,
        who,
      );
      if (written !== null) return written;
      return { ok: true, rollout: this.viewOf(route), message: decision.reason } as const;
    });
  }

  /** Stops every timer; resolves once the work under way (a check, a command) is over, so a successor never overlaps it. */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.options.notifier.close();
    await this.queue;
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work);
    this.queue = next.catch((error: Error) => {
      this.options.logger.error({ err: error }, `rollout controller: ${error.message}`);
      // A refused write may mean a lost leadership: asking again steps a deposed leader down.
      void this.holds();
    });
    return next;
  }

  /** Asks holdReason; true (and shown in every status) when nothing may be judged or written now. */
  private async holds(): Promise<boolean> {
    const why = (await this.options.holdReason?.()) ?? null;
    if (why !== this.holding) this.options.logger[why ? 'warn' : 'info']({ problem: why }, why ? `rollout holds: ${why}` : 'rollout goes on: the hold is over');
    this.holding = why;
    return why !== null;
  }

  /** Takes routes.yaml as it is now: new and edited blocks start, hand edits pause, removed blocks end. */
  private async sync(): Promise<void> {
    const read = await this.options.store.read();
    if (!read.ok) {
      this.options.logger.warn({ problem: read.message }, 'rollout: routes.yaml cannot be read as a plan now; every rollout holds');
      return;
    }
    const present = new Set<string>();
    for (const route of read.table.routes) {
      if (route.rollout === null) continue;
      present.add(route.name);
      const watched: Watched = { route, config: route.rollout, table: read.table, version: read.version };
      this.watched.set(route.name, watched);
      const percent = percentOf(route, route.rollout.backend);
      const known = this.progress[route.name];
      if (!known || known.block !== blockId(route.rollout)) {
        await this.apply(route.name, startRollout(route.rollout, percent), null, this.actor);
        continue;
      }
      if (known.pending !== null) await this.finishPending(route.name, known, percent);
      const progress = this.progress[route.name];
      if (!progress) continue;
      const now = percentOf(this.watched.get(route.name)!.route, route.rollout.backend);
      if (now !== progress.state.percent) await this.apply(route.name, splitEditedByHand(progress.state, now), null, this.actor);
      else if (!this.nextCheckAt.has(route.name)) await this.resumeWindow(route.name);
      const shown = this.progress[route.name];
      if (shown) this.options.metrics.show(route.name, shown.state.status, shown.state.percent);
    }
    for (const name of Object.keys(this.progress)) {
      if (present.has(name)) continue;
      this.options.logger.info({ route: name }, `rollout of ${name} ends: its rollout: block is gone from routes.yaml`);
      this.watched.delete(name);
      this.stopTimer(name);
      this.options.metrics.forget(name);
      await this.save(name, undefined);
    }
  }

  /**
   * The process ended with a split write announced and not recorded done. routes.yaml tells
   * how far it got: at the decision's percent the write happened, at the one before it did
   * not; either way the decision is carried out now, once (the write only where it is
   * missing, then the state, the events and the webhooks). At any other percent a human
   * changed the split meanwhile: the decision is dropped, and sync pauses the rollout.
   */
  private async finishPending(name: string, known: RouteProgress, percent: number): Promise<void> {
    const { decision, check, who, announced } = known.pending!;
    // Not saved here: until apply records the outcome, the file keeps the announcement.
    this.progress[name] = { ...known, pending: null };
    if (percent === decision.to || percent === known.state.percent) {
      this.options.logger.info(
        { route: name, to: decision.to },
        `rollout of ${name}: carrying out the ${decision.action} to ${decision.to}% announced before this process started`,
      );
      // The audit names who writes: a controller's own decision is written by this one now (a human's command keeps its human).
      await this.apply(name, decision, check, /^rollout(@|$)/.test(who) ? this.actor : who, announced);
    } else await this.save(name, { ...known, pending: null });
  }

  /**
   * Makes a decision happen: the split write first (announced in the progress file, then
   * written through the PlanStore), then the new state, the events and the next interval.
   * The events bear `time`, taken before the write: what the new split causes comes after
   * it. Returns the refusal when the write was refused (the progress stays as it was; a
   * rollout that had none yet is forgotten, so the next sync starts it again).
   */
  private async apply(
    name: string,
    decision: RolloutDecision,
    check: CheckRecord | null,
    who: string,
    time = new Date().toISOString(),
  ): Promise<({ ok: false } & Refusal) | null> {
    const watched = this.watched.get(name)!;
    const known = this.progress[name];
    const inFile = percentOf(watched.route, watched.config.backend);
    const from = known?.state.percent ?? inFile;
    // An edited block starts afresh but keeps the timeline, so the status still shows what happened before.
    const base: RouteProgress = known
      ? { ...known, block: blockId(watched.config), backend: watched.config.backend, group: watched.route.group }
      : {
          block: blockId(watched.config),
          backend: watched.config.backend,
          group: watched.route.group,
          // Until its first write is done, a new rollout stands where the split is.
          state: { ...decision.state, percent: inFile },
          pending: null,
          lastCheck: null,
          events: [],
        };

    if (decision.to !== null && decision.to !== inFile) {
      await this.save(name, { ...base, pending: { decision, check, who, announced: time } });
      const result = await this.options.store.change(
        { kind: 'shift', route: name, backend: watched.config.backend, percent: decision.to, only: false },
        {
          who,
          via: 'rollout',
          reason: decision.reason,
          dryRun: false,
          action: decision.action === 'rollback' ? 'rollback' : 'step',
          details: {
            rollout: { from: inFile, to: decision.to, status: decision.state.status, step: decision.state.stepIndex + 1, of: watched.config.steps.length },
            gates: gateValues(check?.gates ?? []),
          },
          expectVersion: watched.version,
          ...(this.options.leadership ? { leadership: this.options.leadership } : {}),
        },
      );
      if (!result.ok) {
        await this.save(name, known && { ...known, pending: null });
        this.options.logger.error(
          { route: name, to: decision.to, status: result.status, problem: result.message },
          `rollout of ${name}: writing ${decision.to}% was refused: ${result.message}`,
        );
        return result;
      }
      this.watched.set(name, {
        ...watched,
        route: result.after.routes.find((r) => r.name === name) ?? watched.route,
        table: result.after,
        version: result.version,
      });
    }

    const events: RolloutEvent[] = decision.events.map((event) =>
      eventOf(event, name, watched.route.group, from, decision.state.percent, check?.gates ?? [], time, decision.reason),
    );
    const changed = !known || known.state.status !== decision.state.status || known.state.percent !== decision.state.percent || check !== null;
    await this.save(name, {
      ...base,
      state: decision.state,
      pending: null,
      lastCheck: check ?? base.lastCheck,
      // A judged or ended interval is never judged again (a failure counted twice): a successor starts a new one.
      window: changed ? null : (base.window ?? null),
      events: [...base.events, ...events].slice(-EVENTS_KEPT),
    });
    for (const event of events) {
      this.options.logger.info({ route: name, event: event.event, from: event.from, to: event.to }, event.text);
      this.options.notifier.send(watched.config.notify, event);
    }
    this.options.metrics.show(name, decision.state.status, decision.state.percent);
    if (changed) await this.restartWindow(name);
    return null;
  }

  /**
   * A new interval begins now: the gates will judge what happens from here on. In a fleet it
   * begins once every live replica serves the plan (until then, asked again every 250 ms), so
   * no interval mixes traffic split the old way and the new.
   */
  private async restartWindow(name: string): Promise<void> {
    const progress = this.progress[name];
    const watched = this.watched.get(name);
    this.stopTimer(name);
    this.nextCheckAt.delete(name);
    this.waitingFor.delete(name);
    if (!progress || !watched || progress.state.status !== 'progressing' || this.closed) return;
    const behind = await this.notServing(watched.version);
    if (behind.length > 0) {
      this.waitingFor.set(name, behind);
      const timer = setTimeout(() => void this.serial(() => this.restartWindow(name)), CONVERGENCE_POLL_MS);
      timer.unref();
      this.timers.set(name, timer);
      return;
    }
    const mark = await this.options.reader.startWindow(name, queryOf(watched));
    const { intervalSeconds } = watched.config;
    try {
      const due = await this.options.progress.deadline(intervalSeconds);
      await this.save(name, { ...this.progress[name]!, window: { version: watched.version, percent: progress.state.percent, mark, due } });
    } catch (error) {
      this.options.logger.warn(
        { route: name, problem: (error as Error).message },
        `rollout of ${name}: its interval could not be saved (${(error as Error).message}); a successor would start a whole one`,
      );
    }
    this.scheduleCheck(name, intervalSeconds * 1000);
  }

  /**
   * The first interval of this controller: the one the last controller (a leader gone, this
   * process before a restart) saved, if it still judges what is served now — its baseline
   * taken up and its check due when it was due (at once when that is past) — so a new leader
   * does not wait a whole interval more. Any other case starts a new interval.
   */
  private async resumeWindow(name: string): Promise<void> {
    const progress = this.progress[name];
    const watched = this.watched.get(name);
    const window = progress?.window ?? null;
    if (!progress || !watched || !window || this.closed || progress.state.status !== 'progressing') return this.restartWindow(name);
    if (window.version !== watched.version || window.percent !== progress.state.percent) return this.restartWindow(name);
    let leftMs: number | null;
    try {
      leftMs = await this.options.progress.untilDeadline(window.due);
    } catch (error) {
      this.options.logger.warn(
        { route: name, problem: (error as Error).message },
        `rollout of ${name}: the saved interval's deadline cannot be read; a new interval starts`,
      );
      leftMs = null;
    }
    if (leftMs === null) return this.restartWindow(name);
    // The store's deadline can be late (whole seconds, etcd's minimum TTL); the interval began before now, so it is due within a whole one anyway.
    leftMs = Math.min(leftMs, watched.config.intervalSeconds * 1000);
    this.stopTimer(name);
    this.waitingFor.delete(name);
    this.options.reader.resumeWindow(name, window.mark);
    this.options.logger.info(
      { route: name, percent: progress.state.percent, dueInMs: leftMs },
      `rollout of ${name}: taking up the interval at ${progress.state.percent}% that the last controller began; its check is due ${leftMs === 0 ? 'now' : `in ${leftMs / 1000} s`}`,
    );
    this.scheduleCheck(name, leftMs);
  }

  private scheduleCheck(name: string, delayMs: number): void {
    this.nextCheckAt.set(name, Date.now() + delayMs);
    const timer = setTimeout(() => void this.serial(() => this.check(name)), delayMs);
    timer.unref();
    this.timers.set(name, timer);
  }

  /**
   * The end of an interval: gates → decision → write. Held (nothing judged, a new interval)
   * when the store cannot be reached or leadership is in doubt, or when a replica no longer
   * serves the step's plan (one that joined meanwhile, one that rejected it).
   */
  private async check(name: string): Promise<void> {
    this.timers.delete(name);
    if (this.closed) return;
    if (await this.holds()) {
      await this.restartWindow(name);
      return;
    }
    await this.sync();
    const progress = this.progress[name];
    const watched = this.watched.get(name);
    if (!progress || !watched || progress.state.status !== 'progressing' || this.timers.has(name)) return;
    const behind = await this.notServing(watched.version);
    if (behind.length > 0) {
      this.options.logger.info({ route: name, behind }, `rollout check of ${name} not judged: ${behind.join(', ')} do not serve the plan of this step`);
      await this.restartWindow(name);
      return;
    }
    let gates: GateResult[];
    try {
      const reading = await this.options.reader.read(name, queryOf(watched), watched.config.intervalSeconds);
      gates = evaluateGates(reading, watched.config);
    } catch (error) {
      const why = `cannot read the gate values: ${(error as Error).message}`;
      gates = [{ gate: 'requests', value: null, threshold: watched.config.minRequests, verdict: 'inconclusive', why }];
    }
    const verdict = verdictOf(gates);
    const decision = decideStep(progress.state, gates, watched.config);
    this.options.metrics.checked(name, verdict, gates);
    const record: CheckRecord = { time: new Date().toISOString(), verdict, percent: progress.state.percent, gates, reason: decision.reason };
    this.options.logger[verdict === 'failed' ? 'warn' : 'info'](
      {
        route: name,
        verdict,
        percent: progress.state.percent,
        action: decision.action,
        gates: Object.fromEntries(gates.map((g) => [g.gate, { value: g.value, threshold: g.threshold, verdict: g.verdict }])),
      },
      `rollout check of ${name} at ${progress.state.percent}%: ${verdict} (${describeGates(gates)}) → ${decision.action}`,
    );
    await this.apply(name, decision, record, this.actor);
  }

  /** The replicas that do not serve `version`; an unreadable fleet is one too (nothing is judged on numbers it cannot vouch for). */
  private async notServing(version: string): Promise<readonly string[]> {
    if (!this.options.fleet) return [];
    try {
      return await this.options.fleet.notServing(version);
    } catch (error) {
      return [`the fleet's registrations (unreadable: ${(error as Error).message})`];
    }
  }

  private stopTimer(name: string): void {
    const timer = this.timers.get(name);
    if (timer !== undefined) clearTimeout(timer);
    this.timers.delete(name);
  }

  /**
   * Writes the progress with `name`'s record replaced (undefined: removed), and only then
   * takes it: what the status shows has been saved, so a process killed after showing it
   * starts again from it.
   */
  private async save(name: string, record: RouteProgress | undefined): Promise<void> {
    const next = { ...this.progress };
    if (record === undefined) delete next[name];
    else next[name] = record;
    await this.options.progress.write(next, this.options.leadership ?? null);
    this.progress = next;
  }

  private unknown(route: string): { ok: false } & Refusal {
    const names = Object.keys(this.progress);
    const hint = closest(route, names);
    return {
      ok: false,
      status: 404,
      message: `route '${route}' has no rollout: block${hint ? ` (did you mean '${hint}'?)` : ''}${names.length ? `; rollouts: ${names.join(', ')}` : ' (no route has one)'}`,
    };
  }
}

/** The new backend's percent in a compiled route's split. */
function percentOf(route: Route, backend: string): number {
  return splitOf(route)[backend] ?? 0;
}

/** The block's identity: a change of any setting is a new rollout; its line moving is not. */
function blockId(config: RolloutConfig): string {
  const { line: _line, ...settings } = config;
  return createHash('sha256').update(JSON.stringify(settings)).digest('hex').slice(0, 16);
}

function queryOf(watched: Watched): GateQuery {
  return {
    routes: watched.table.routes.filter((r) => r.group === watched.route.group).map((r) => r.name),
    backend: watched.config.backend,
    legacy: watched.table.legacy.name,
  };
}

function gateValues(gates: readonly GateResult[]): RolloutEvent['gates'] {
  return Object.fromEntries(gates.map((g) => [g.gate, { value: g.value, threshold: g.threshold }]));
}

function eventOf(
  event: RolloutEventKind,
  route: string,
  group: string,
  from: number,
  to: number,
  gates: readonly GateResult[],
  time: string,
  reason: string,
): RolloutEvent {
  const move = from === to ? `at ${to}%` : `${from}% → ${to}%`;
  return {
    event,
    route,
    group,
    from,
    to,
    gates: gateValues(gates),
    time,
    text: `rollout of ${route} (group ${group}) ${event.replace('_', ' ')} ${move}: ${reason}`,
  };
}
