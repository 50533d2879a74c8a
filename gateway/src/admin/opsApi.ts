import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { ReloadResult } from '../plan/livePlan.ts';
import { formatProblem } from '../config/problems.ts';
import type { GatewayMetrics } from '../observe/metrics.ts';
import { estimateChange, reportRecentClients } from '../plan/estimate.ts';
import type { ChangeRequest } from '../plan/planChange.ts';
import type { ChangeResult, PlanSnapshot, PlanStore } from '../plan/planStore.ts';
import type { RecentTraffic } from '../observe/recentTraffic.ts';
import { parsePercent } from '../plan/splitPercents.ts';
import type { FleetView } from '../fleet/fleetView.ts';
import { liveStats } from './liveStats.ts';
import { planView } from './planView.ts';

export interface OpsDeps {
  /** The plan running now (its version is what a compare-and-write `expectVersion` names). */
  readonly plan: () => PlanSnapshot;
  /** routes.yaml: every change goes through it (validated, compare-and-write, audited). */
  readonly store: PlanStore;
  /** Applies the file now rather than waiting for the file watch, so the answer shows the new plan. */
  readonly reload: () => Promise<ReloadResult>;
  readonly traffic: RecentTraffic;
  readonly metrics: GatewayMetrics;
  /** On the etcd store: the fleet's numbers and replicas (the stats are then the whole fleet's, whichever replica answers). */
  readonly fleet?: FleetView | null;
  /** Whether callers proved themselves with the admin token (else: loopback only). */
  readonly tokenRequired: boolean;
}

/** An error the handlers throw on purpose: answered as `{ status, message }`. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The admin API under /api (mounted behind the token check): read the plan and the live
 * numbers, change a split or panic (the same code path as the CLI: validation, write-back
 * to routes.yaml, audit), read the audit log and the recent clients' buckets.
 */
export function createOpsApi(deps: OpsDeps): Router {
  const api = Router();
  api.use(refuseCrossSiteWrites);
  api.use(express.json({ limit: '16kb' }));

  api.get('/plan', (_req, res) => {
    res.json(planView(deps.plan()));
  });

  api.get('/stats', async (_req, res) => {
    const numbers = deps.fleet
      ? await fromFleet(deps.fleet.numbers())
      : { traffic: deps.traffic.window.snapshot(), shadowComparisons: (await deps.metrics.shadowComparisons.get()).values };
    res.json(liveStats(deps.plan().table, numbers));
  });

  api.get('/fleet', async (_req, res) => {
    if (!deps.fleet) throw new HttpProblem(404, 'no fleet: this gateway runs on a routes file; replicas share a plan on the etcd store (GATEWAY_PLAN_STORE)');
    res.json(await fromFleet(deps.fleet.status()));
  });

  api.get('/recent-clients', (_req, res) => {
    res.json(reportRecentClients(deps.plan().table, deps.traffic.clients));
  });

  api.get('/audit', async (req, res) => {
    const limit = req.query.limit === undefined ? 50 : Number(req.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new HttpProblem(400, `limit=${String(req.query.limit)} is not allowed: a whole number from 1 to 1000`);
    let report;
    try {
      report = await deps.store.auditReport(limit);
    } catch (error) {
      // An etcd store that does not answer: 503 with its reason, as for a write.
      throw new HttpProblem(deps.store.status().up ? 500 : 503, (error as Error).message);
    }
    res.json({ file: deps.store.auditLocation, ...report });
  });

  api.post('/routes/:route/split', async (req, res) => {
    const body = bodyOf(req);
    if (typeof body.backend !== 'string' || body.backend === '')
      throw new HttpProblem(400, 'backend is required: the new backend whose share to set, e.g. { "backend": "thoughts", "percent": 25 }');
    const percent = parsePercent(body.percent, `the share of ${body.backend}`);
    if (!percent.ok) throw new HttpProblem(400, percent.message);
    const request: ChangeRequest = { kind: 'shift', route: String(req.params.route), backend: body.backend, percent: percent.value, only: body.only === true };
    await answerChange(res, request, body);
  });

  api.post('/panic', async (req, res) => {
    const body = bodyOf(req);
    if ((body.all === true) === (typeof body.route === 'string')) {
      throw new HttpProblem(400, 'say what goes back to legacy: { "route": "<name>" } (its whole group) or { "all": true }');
    }
    const request: ChangeRequest = body.all === true ? { kind: 'panic-all' } : { kind: 'panic', route: String(body.route), only: body.only === true };
    await answerChange(res, request, body);
  });

  async function answerChange(res: Response, request: ChangeRequest, body: Record<string, unknown>): Promise<void> {
    const dryRun = body.dryRun === true;
    const result: ChangeResult = await deps.store.change(request, {
      who: whoOf(body, deps.tokenRequired),
      via: 'admin',
      reason: optionalText(body.reason, 'reason', 500),
      dryRun,
      expectVersion: optionalText(body.expectVersion, 'expectVersion', 64) ?? undefined,
    });
    if (!result.ok) throw new HttpProblem(result.status, result.message);
    // On the etcd store, the recent clients of every replica (what each publishes), else this process's.
    const recent = deps.fleet ? (await deps.fleet.recentClients(result.before)).recent : reportRecentClients(deps.plan().table, deps.traffic.clients);
    const estimate = estimateChange(result, recent);
    let reload: { ok: boolean; problems?: string[] } | null = null;
    if (result.applied) {
      const reloaded = await deps.reload();
      reload = reloaded.ok ? { ok: true } : { ok: false, problems: reloaded.problems.map(formatProblem) };
    }
    res.status(200).json({
      applied: result.applied,
      dryRun,
      changes: result.changes,
      notes: result.notes,
      diff: result.diff,
      version: result.version,
      estimate,
      reload,
      plan: planView(deps.plan()),
    });
  }

  api.use((req, _res, next) => next(new HttpProblem(404, `no admin API endpoint ${req.method} /api${req.path}; see gateway/README.md "Shifting traffic"`)));
  api.use(answerProblem);
  return api;
}

/** A read of what the replicas publish in etcd; etcd away is a 503 naming it, never numbers made up from this replica alone. */
export function fromFleet<T>(read: Promise<T>): Promise<T> {
  return read.catch((error: Error) => {
    throw new HttpProblem(503, `plan store unreachable: the fleet's numbers live in etcd, which did not answer (${error.message})`);
  });
}

export function bodyOf(req: Request): Record<string, unknown> {
  const body: unknown = req.body;
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpProblem(400, 'the body must be a JSON object');
  return body as Record<string, unknown>;
}

export function optionalText(value: unknown, name: string, max: number): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') throw new HttpProblem(400, `${name} must be text`);
  if (value.length > max) throw new HttpProblem(400, `${name} is longer than ${max} characters`);
  return value.trim();
}

/** The audit's "who": the name the caller gives, marked with how it got in (the token, or loopback access). */
export function whoOf(body: Record<string, unknown>, tokenRequired: boolean): string {
  const by = optionalText(body.by, 'by', 80);
  const proof = tokenRequired ? 'admin token' : 'loopback admin';
  return by ? `${by} (${proof})` : proof;
}

/**
 * Without a token the admin port relies on being reachable only from this machine — but a
 * web page open in the operator's browser can reach 127.0.0.1 too. Its Host and Origin are
 * checked before this (AdminHostPolicy); writes must also be JSON, which a cross-site page
 * cannot send without a CORS preflight, never granted.
 */
export function refuseCrossSiteWrites(req: Request, _res: Response, next: NextFunction): void {
  if (req.method === 'GET' || req.method === 'HEAD') return next();
  if (!req.is('application/json')) return next(new HttpProblem(415, 'send the body as JSON with Content-Type: application/json'));
  next();
}

export function answerProblem(error: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) return next(error);
  if (error instanceof HttpProblem) {
    res.status(error.status).json({ status: error.status, message: error.message });
    return;
  }
  const parseError = error as { type?: string; status?: number; message?: string };
  if (parseError.type === 'entity.parse.failed') {
    res.status(400).json({ status: 400, message: `the body is not valid JSON: ${parseError.message}` });
    return;
  }
  if (parseError.type === 'entity.too.large') {
    res.status(413).json({ status: 413, message: 'the body is larger than 16 kB' });
    return;
  }
  next(error);
}
