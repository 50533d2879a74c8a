import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument, type Document } from 'yaml';

/** The bench's migration plan (20 routes, one 90/10 split), shipped next to this file. */
const BENCH_ROUTES_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'routes.bench.yaml');

/** The route every measured request hits, its path, and the backend names of the plan. */
const SPLIT_ROUTE = 'thoughts';
export const LOAD_PATH = '/api/thoughts/';
const LEGACY = 'legacy';
const NEW = 'new';
const SHADOW_BACKEND = 'slow';

export interface BackendUrls {
  readonly legacy: string;
  readonly new: string;
  /** The deliberately slow backend that shadow copies go to. */
  readonly slow: string;
}

/** How a generated copy differs from the bench's plan. */
export type RoutesFlavour =
  /** As written: the 90/10 split decided per client (cohort hashing). */
  | 'plan'
  /** The split route at 0 % new: no client key, no hashing (the cost of cohorts). */
  | 'no-cohort'
  /** The split route also shadows 100 % of its requests to the slow backend. */
  | 'shadow';

export function readBenchRoutes(): Document {
  return parseDocument(readFileSync(BENCH_ROUTES_FILE, 'utf8'));
}

/** Writes a routes.yaml for the gateway with the bench's ports, and returns its path. */
export function writeGatewayRoutes(dir: string, urls: BackendUrls, flavour: RoutesFlavour): string {
  const doc = readBenchRoutes();
  doc.setIn(['backends', LEGACY, 'url'], urls.legacy);
  doc.setIn(['backends', NEW, 'url'], urls.new);
  const index = splitRouteIndex(doc);
  if (flavour === 'no-cohort') doc.setIn(['routes', index, 'split'], doc.createNode({ [NEW]: 0 }, { flow: true }));
  if (flavour === 'shadow') {
    doc.setIn(['backends', SHADOW_BACKEND], doc.createNode({ url: urls.slow }, { flow: true }));
    // The architecture's sketch: `shadow: { to: <backend>, percent: 100 }` on the route.
    doc.setIn(['routes', index, 'shadow'], doc.createNode({ to: SHADOW_BACKEND, percent: 100 }, { flow: true }));
  }
  const file = path.join(dir, `routes-${flavour}.yaml`);
  writeFileSync(file, String(doc));
  return file;
}

function splitRouteIndex(doc: Document): number {
  const routes = (doc.toJS() as { routes: { name: string }[] }).routes;
  const index = routes.findIndex((route) => route.name === SPLIT_ROUTE);
  if (index === -1) throw new Error(`${BENCH_ROUTES_FILE} has no route named '${SPLIT_ROUTE}'`);
  return index;
}
