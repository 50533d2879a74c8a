import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express, { type Router } from 'express';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@mythoughts/runtime/errors';
import { apiRoute, apiRouter, MESSAGES, sendJson } from '../../src/http/api.ts';
import { addDocumentedApi, documentedOperations, loadOpenApiDocument, openApiProblems, type OpenApiDocument } from '../../src/http/openapi.ts';
import { startService, type RunningService, type ServiceSpec } from '../../src/http/service.ts';

/**
 * The checks every documented service needs beyond its JSON API (which the contract suite in
 * tests/contract covers on the monolith and the services alike): its OpenAPI document, Swagger
 * UI, metrics and health endpoints, and a request validator that answers in the contract's
 * shape and never where the monolith would answer differently. Written once, called by each
 * service's test file with what is particular to it.
 */
export interface DocumentedServiceExpectations {
  spec: ServiceSpec;
  /** The service's OpenAPI document (the same file its `addRoutes` mounts). */
  documentFile: URL;
  /** Every operation the service serves, `METHOD /path/`; the document must list exactly these. */
  operations: string[];
  /** A documented request whose body field has a type the document does not allow (an array, an object). */
  wrongType: { method: string; path: string; body: Record<string, unknown>; field: string; headers?: Record<string, string> };
  /**
   * For a body with several fields: a body that lacks an earlier field and has a later one of the
   * wrong type. The monolith names the missing field first, so the validator must stay silent.
   */
  wrongTypeAfterMissingField?: Record<string, unknown>;
}

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

async function send(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, { redirect: 'manual', ...init });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

const JSON_HEADERS = { 'content-type': 'application/json' };

function contractError(field: string, message: string): string {
  return JSON.stringify({ errors: { [field]: message }, message: MESSAGES.invalidPayload });
}

export function describeDocumentedService(expected: DocumentedServiceExpectations): void {
  const { spec } = expected;

  describe(`${spec.name} service: documentation, operations endpoints and request validation`, () => {
    let service: RunningService;
    let dataDir: string;
    const url = (p: string) => `${service.url}${p}`;

    beforeAll(async () => {
      dataDir = mkdtempSync(path.join(os.tmpdir(), `mythoughts-${spec.name}-`));
      service = await startService(spec, { [spec.portVariable]: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
    });

    afterAll(async () => {
      await service?.close();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('serves its OpenAPI document at /openapi.json: valid OpenAPI 3.0, listing every route it serves', async () => {
      const answer = await send(url('/openapi.json'));
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toBe('application/json');
      const document = JSON.parse(answer.text) as OpenApiDocument;
      expect(openApiProblems(document)).toEqual([]);
      expect(documentedOperations(document)).toEqual([...expected.operations].sort());
      expect(document).toEqual(loadOpenApiDocument(expected.documentFile));
      const schemes = (document.components as { securitySchemes?: Record<string, unknown> } | undefined)?.securitySchemes;
      expect(schemes?.bearer).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    });

    it('serves Swagger UI at / from the installed package, nothing from a CDN', async () => {
      const page = await send(url('/'));
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.text).toContain('<div id="swagger-ui"></div>');
      const assets = [...page.text.matchAll(/(?:src|href)=["']([^"']+)["']/g)].map((match) => match[1]!);
      expect(assets).toContain('./swagger-ui-bundle.js');
      for (const asset of assets) {
        expect(asset, `${asset} must be served by the service itself`).toMatch(/^\.\//);
        const file = await send(url(asset.slice(1)));
        expect(file.status, asset).toBe(200);
      }
      // The page's script carries this service's own document (not another app's in the same process).
      const init = await send(url('/swagger-ui-init.js'));
      const title = (loadOpenApiDocument(expected.documentFile).info as { title: string }).title;
      expect(init.text).toContain(JSON.stringify(title));
    });

    it('serves only the Swagger UI files its page needs, not the rest of the package', async () => {
      for (const file of ['/package.json', '/index.html', '/swagger-ui.js.map', '/README.md']) {
        const answer = await send(url(file));
        expect(answer.status, file).toBe(404);
        expect(answer.text).toBe(JSON.stringify({ message: MESSAGES.notFound }));
      }
    });

    it('counts answered requests in /metrics as http_requests_total', async () => {
      await send(url('/openapi.json'));
      const metrics = await send(url('/metrics'));
      expect(metrics.status).toBe(200);
      expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(metrics.text).toMatch(new RegExp(`^http_requests_total\\{[^}]*service="${spec.name}"[^}]*\\} \\d+`, 'm'));
    });

    it('answers /healthz and, with its database reachable, /readyz', async () => {
      const health = await send(url('/healthz'));
      expect([health.status, health.text]).toEqual([200, '{"status":"ok"}']);
      const ready = await send(url('/readyz'));
      expect([ready.status, ready.text]).toEqual([200, '{"status":"ready"}']);
    });

    it("answers a body field of the wrong type with the validator's 400, in the contract's shape", async () => {
      const { method, path: p, body, field, headers } = expected.wrongType;
      const answer = await send(url(p), { method, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) });
      expect(answer.status).toBe(400);
      expect(answer.headers.get('content-type')).toBe('application/json');
      expect(answer.text).toBe(contractError(field, `${field} must be a string`));
    });
  });

  describe(`${spec.name} service: its OpenAPI validation in front of stub handlers`, () => {
    // The real document and validator in front of handlers that only say they were reached:
    // this tells the validator's answers apart from the handlers' (which are the same by design).
    let server: Server;
    let base: string;
    const url = (p: string) => `${base}${p}`;
    const document = loadOpenApiDocument(expected.documentFile);
    const reached = (answer: Answer) => answer.status === 200 && answer.text.startsWith('{"reached"');

    beforeAll(async () => {
      const app = express();
      addDocumentedApi(app, pino({ level: 'silent' }), { documentFile: expected.documentFile, routers: stubRouters(document) });
      server = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });

    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('refuses to start when a documented operation has no handler', () => {
      // Stub routers come in the order of the sorted operations: without the first, its operation has no handler.
      const routers = stubRouters(document).slice(1);
      const [first] = documentedOperations(document);
      expect(() => addDocumentedApi(express(), pino({ level: 'silent' }), { documentFile: expected.documentFile, routers })).toThrow(
        `${first} is in the OpenAPI document but has no handler`,
      );
    });

    it('stops a body field of the wrong type before the handler', async () => {
      const { method, path: p, body, field } = expected.wrongType;
      const answer = await send(url(p), { method, headers: JSON_HEADERS, body: JSON.stringify(body) });
      expect(answer.text).toBe(contractError(field, `${field} must be a string`));
    });

    it('hands a JSON number on as the string the monolith reads', async () => {
      const { method, path: p, field } = expected.wrongType;
      const answer = await send(url(p), { method, headers: JSON_HEADERS, body: JSON.stringify({ [field]: 42 }) });
      expect(reached(answer)).toBe(true);
      expect(JSON.parse(answer.text).body[field]).toBe('42');
    });

    // Only services with two fields have a field after a missing one.
    if (expected.wrongTypeAfterMissingField)
      it('leaves a wrong type after a missing field to the handler, which names the missing one first', async () => {
        const { method, path: p } = expected.wrongType;
        const answer = await send(url(p), { method, headers: JSON_HEADERS, body: JSON.stringify(expected.wrongTypeAfterMissingField) });
        expect(reached(answer)).toBe(true);
      });

    it('leaves bodies of other media types to the handler (the monolith ignores them, no 415)', async () => {
      const { method, path: p } = expected.wrongType;
      const answer = await send(url(p), { method, headers: { 'content-type': 'text/plain' }, body: 'hello' });
      expect(reached(answer)).toBe(true);
    });

    it('leaves the query string to the handler, as Express parsed it', async () => {
      const [operation] = documentedOperations(document).filter((op) => op.startsWith('GET ') && !op.includes('{'));
      const [method, p] = (operation ?? `${expected.wrongType.method} ${expected.wrongType.path}`).split(' ') as [string, string];
      const answer = await send(url(`${p}?probe[a]=1&search=a:b?&search2=%25`), { method });
      expect(reached(answer)).toBe(true);
      expect(JSON.parse(answer.text).query).toEqual({ 'probe[a]': '1', search: 'a:b?', search2: '%' });
    });

    it('leaves path parameters that do not fit to the handler (it answers "not found" its own way)', async () => {
      for (const operation of documentedOperations(document).filter((op) => op.includes('{'))) {
        const [method, p] = operation.split(' ') as [string, string];
        const answer = await send(url(p.replace(/\{\w+\}/g, 'not-a-number')), { method });
        expect(reached(answer), operation).toBe(true);
      }
    });

    it('lets the slashless 308, the 405 with Allow and the JSON 404 through unchanged', async () => {
      const { method, path: p } = expected.wrongType;
      const slashless = await send(url(`${p.replace(/\/$/, '')}?x=1`), { method });
      expect(slashless.status).toBe(308);
      expect(slashless.headers.get('location')).toBe(`${p}?x=1`);
      const wrongMethod = await send(url(p), { method: 'PATCH' });
      expect(wrongMethod.status).toBe(405);
      expect(wrongMethod.headers.get('allow')).toContain(method);
      expect(wrongMethod.text).toBe(JSON.stringify({ message: MESSAGES.methodNotAllowed }));
      const unknown = await send(url('/api/no-such-route/'));
      expect([unknown.status, unknown.text]).toEqual([404, JSON.stringify({ message: MESSAGES.notFound })]);
    });
  });
}

describe('a broken OpenAPI document', () => {
  it('stops the service with a message naming the file and the line', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mythoughts-openapi-'));
    try {
      const file = path.join(dir, 'openapi.yaml');
      writeFileSync(file, 'openapi: 3.0.3\ninfo:\n  title: x\n  version: 1\npaths:\n  /a/:\n    get: {responses: {200: {description: ok}}\n');
      expect(() => loadOpenApiDocument(file)).toThrow(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:8:1: `));
      writeFileSync(file, 'openapi: 3.0.3\ninfo: {title: x}\npaths: {}\n');
      expect(() => loadOpenApiDocument(file)).toThrow(/is not a valid OpenAPI 3.0 document: \/info must have required property 'version'/);
      expect(() => loadOpenApiDocument(path.join(dir, 'missing.yaml'))).toThrow(ConfigError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** One stub router per first path segment, with a handler for every documented operation. */
function stubRouters(document: OpenApiDocument): Array<[string, Router]> {
  const byMount = new Map<string, Map<string, string[]>>();
  for (const operation of documentedOperations(document)) {
    const [method, documentedPath] = operation.split(' ') as [string, string];
    const [, mount, rest] = /^(\/[^/]+)(\/.*)$/.exec(documentedPath.replace(/\{(\w+)\}/g, ':$1'))!;
    const routes = byMount.get(mount!) ?? new Map<string, string[]>();
    routes.set(rest!, [...(routes.get(rest!) ?? []), method]);
    byMount.set(mount!, routes);
  }
  return [...byMount].map(([mount, routes]) => {
    const router = apiRouter();
    for (const [routePath, methods] of routes) {
      const handler = (req: express.Request, res: express.Response) =>
        sendJson(res, 200, { reached: `${req.method} ${routePath}`, query: req.query, params: req.params, body: req.body });
      apiRoute(router, routePath, Object.fromEntries(methods.map((method) => [method, handler])));
    }
    return [mount, router];
  });
}
