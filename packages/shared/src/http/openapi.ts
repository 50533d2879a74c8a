import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Express, NextFunction, Request, Response, Router } from 'express';
import OpenApiValidator from 'express-openapi-validator';
import { OpenAPISchemaValidator } from 'express-openapi-validator/dist/framework/openapi.schema.validator.js';
import type { Logger } from 'pino';
import swaggerUi from 'swagger-ui-express';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError } from '@mythoughts/runtime/errors';
import { apiBodyParsers, apiErrorHandler, apiNotFound, invalidField } from './api.ts';

/**
 * A new service's API described by ONE OpenAPI document that both documents it (Swagger UI at
 * `/`, the document at `/openapi.json`) and validates its requests, the way the book's
 * Flask-RESTPlus services published the models their handlers used.
 *
 * The contract (docs/api-contract.md §3) was written by the monolith, not by a validator: wherever the
 * validator would answer differently from the monolith, the request is handed on to the
 * handler, which answers like the monolith does (see `contractValidationErrors`).
 */

/** A parsed OpenAPI 3.0 document. */
export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

export interface DocumentedApi {
  /** The service's OpenAPI document (YAML), kept next to its handlers. */
  documentFile: URL | string;
  /** Routers by mount path (`/api`, `/admin`): the document's paths are these prefixes plus the routers' paths. */
  routers: ReadonlyArray<readonly [mountPath: string, router: Router]>;
}

/**
 * Mounts a documented API on a service app: docs first (so they are never validated), then
 * body parsers, request validation, the service's routers, the JSON 404 and the error handler.
 * The order matters: the validator only sees documented method+path pairs, so the 308s for
 * slashless paths and the 405s of `apiRoute` reach the routers untouched.
 */
export function addDocumentedApi(app: Express, logger: Logger, api: DocumentedApi): void {
  const document = loadOpenApiDocument(api.documentFile);
  checkDocumentMatchesRoutes(document, api.routers);
  // The validator matches paths the way the app's routes do; both must be strict (`/api/login`
  // is not `/api/login/`) and case-sensitive, like Flask's routes.
  app.set('strict routing', true);
  app.set('case sensitive routing', true);
  serveApiDocs(app, document);
  app.use(...apiBodyParsers(), rememberQuery, ...validateRequests(document), restoreQuery, contractValidationErrors(document));
  for (const [mountPath, router] of api.routers) app.use(mountPath, router);
  app.use(apiNotFound, apiErrorHandler(logger));
}

/** Reads, parses and checks an OpenAPI document; every problem is a ConfigError naming the file (and line). */
export function loadOpenApiDocument(documentFile: URL | string): OpenApiDocument {
  const file = documentFile instanceof URL ? fileURLToPath(documentFile) : documentFile;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read the OpenAPI document ${file}: ${(error as Error).message}`);
  }
  const lineCounter = new LineCounter();
  const yaml = parseDocument(text, { lineCounter });
  const [syntaxError] = yaml.errors;
  if (syntaxError) {
    const { line, col } = lineCounter.linePos(syntaxError.pos[0]);
    const message = syntaxError.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new ConfigError(`${file}:${line}:${col}: ${message}`);
  }
  const document = yaml.toJS() as OpenApiDocument;
  const problems = openApiProblems(document);
  if (problems.length > 0) {
    throw new ConfigError(`${file} is not a valid OpenAPI 3.0 document: ${problems.join('; ')}`);
  }
  return document;
}

/**
 * What is wrong with a document according to the OpenAPI schema, as `<json pointer> <message>`
 * lines; empty when it is valid. Checked at start so that a broken document stops the service
 * with a message, instead of failing its first request.
 */
export function openApiProblems(document: unknown): string[] {
  const version = (document as Partial<OpenApiDocument> | null)?.openapi;
  if (typeof version !== 'string' || !version.startsWith('3.0.')) {
    return [`"openapi" must be a 3.0.x version (got ${JSON.stringify(version)})`];
  }
  const { errors } = new OpenAPISchemaValidator({ version, validateApiSpec: true }).validate(document as never);
  return (errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message ?? 'is invalid'}`);
}

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'patch']);

/** The operations a document describes, as `METHOD /path/{param}/`, sorted. */
export function documentedOperations(document: OpenApiDocument): string[] {
  return Object.entries(document.paths)
    .flatMap(([path, item]) =>
      Object.keys(item)
        .filter((key) => HTTP_METHODS.has(key))
        .map((method) => `${method.toUpperCase()} ${path}`),
    )
    .sort();
}

/**
 * The operations the routers have handlers for, as `METHOD /path/{param}/`, sorted. Only the
 * slashed API paths count: the slashless 308s, OPTIONS and the 405 catch-all are conventions.
 */
function routedOperations(routers: DocumentedApi['routers']): string[] {
  const operations: string[] = [];
  for (const [mountPath, router] of routers) {
    for (const layer of (router as unknown as { stack: Array<{ route?: { path: unknown; methods: Record<string, boolean> } }> }).stack) {
      const route = layer.route;
      if (typeof route?.path !== 'string' || !route.path.endsWith('/')) continue;
      const path = `${mountPath}${route.path}`.replace(/:(\w+)/g, '{$1}');
      for (const method of Object.keys(route.methods).filter((key) => HTTP_METHODS.has(key))) {
        operations.push(`${method.toUpperCase()} ${path}`);
      }
    }
  }
  return operations.sort();
}

/**
 * A handler without its documentation, or documentation without its handler, is a bug that
 * would otherwise only show as a missing Swagger entry or an unvalidated route: refuse to start.
 */
function checkDocumentMatchesRoutes(document: OpenApiDocument, routers: DocumentedApi['routers']): void {
  const documented = documentedOperations(document);
  const routed = routedOperations(routers);
  const problems = [
    ...routed.filter((op) => !documented.includes(op)).map((op) => `${op} has a handler but is not in the OpenAPI document`),
    ...documented.filter((op) => !routed.includes(op)).map((op) => `${op} is in the OpenAPI document but has no handler`),
  ];
  if (problems.length > 0) throw new Error(`the OpenAPI document and the routes disagree: ${problems.join('; ')}`);
}

/** The files Swagger UI's page loads (see swagger-ui-express's HTML template); nothing else is served. */
const SWAGGER_UI_FILES = [
  '/swagger-ui.css',
  '/swagger-ui-bundle.js',
  '/swagger-ui-standalone-preset.js',
  '/swagger-ui-init.js',
  '/favicon-32x32.png',
  '/favicon-16x16.png',
];

/**
 * Swagger UI at `/` and the document at `/openapi.json`. The UI's files come from the
 * installed swagger-ui-dist package (no CDN). Only the files the page needs are routed, so
 * the static handler does not look at API requests and no other file of the package leaks.
 * `serveFiles` keeps the document per app (the module's `serve` shares one global between apps,
 * which mixes up documents when two services run in one process, as in the tests).
 */
function serveApiDocs(app: Express, document: OpenApiDocument): void {
  const json = JSON.stringify(document);
  const title = String((document.info as { title?: unknown } | undefined)?.title ?? 'API');
  const html = swaggerUi.generateHTML(document, { customSiteTitle: title });
  app.get('/openapi.json', (_req, res) => {
    res.status(200).setHeader('Content-Type', 'application/json');
    res.end(json);
  });
  app.get(SWAGGER_UI_FILES, swaggerUi.serveFiles(document));
  app.get('/', (_req, res) => {
    res.status(200).setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(html);
  });
}

/**
 * express-openapi-validator set up to check requests only where the contract agrees:
 * - `ignoreUndocumented`: unknown paths reach `apiNotFound`, slashless paths their 308 and
 *   undocumented methods their 405 + Allow from `apiRoute`, exactly as in the monolith;
 * - no security check: auth is the handlers' (`requireUser`), because POST /api/me/thoughts/
 *   checks `text` before the token, and a 401 must carry the contract's message;
 * - unknown query parameters are allowed (the monolith ignores them);
 * - body values are coerced to the documented strings (JSON `5` reads as `"5"`, as `readField`
 *   does in the monolith);
 * - responses are not validated: handlers write them with `sendJson` (`res.end`), which the
 *   validator cannot see; the contract suite checks them on both implementations instead.
 */
function validateRequests(document: OpenApiDocument) {
  return OpenApiValidator.middleware({
    apiSpec: document as never,
    validateApiSpec: false, // loadOpenApiDocument has checked it, with a better message
    validateRequests: { allowUnknownQueryParameters: true, coerceTypes: true },
    validateResponses: false,
    validateSecurity: false,
    ignoreUndocumented: true,
  });
}

const QUERY_AS_SENT = Symbol('query as sent');
type RequestWithQuery = Request & { [QUERY_AS_SENT]?: Request['query'] };

/**
 * The validator rewrites `req.query` for its own checks (it re-reads bracket keys such as
 * `search[a]=1` as objects, and keeps the result as an own property of the request). Handlers
 * must read the query exactly as Express parsed it, as the monolith does, so it is put back.
 */
function rememberQuery(req: Request, _res: Response, next: NextFunction): void {
  (req as RequestWithQuery)[QUERY_AS_SENT] = req.query;
  next();
}

function restoreQuery(req: Request, _res: Response, next: NextFunction): void {
  putQueryBack(req);
  next();
}

function putQueryBack(req: Request): void {
  const asSent = (req as RequestWithQuery)[QUERY_AS_SENT];
  // Only an own property needs it: Express's own `query` is a getter on the prototype.
  if (asSent !== undefined && Object.hasOwn(req, 'query')) (req as { query: unknown }).query = asSent;
}

interface ValidatorError {
  status?: number;
  errors?: Array<{ path?: string; message?: string; errorCode?: string }>;
}

/**
 * Turns the validator's errors into the answers the monolith gives for the same request. The
 * rule: answer only where the monolith's handler would give the very same answer, otherwise
 * hand the request on to the handler (which then answers exactly like the monolith).
 * - A body value of the wrong type (an array or object where a string is documented) is the
 *   400 `readField` gives: `{"errors": {"<field>": "<field> must be a string"}, "message": ...}`,
 *   provided every field declared before it is in the body, so that the handler (which reads
 *   fields in the documented order) would have stopped at the same field.
 * - A path parameter that does not fit (`/api/thoughts/abc/`) is the handler's to answer
 *   (the monolith says 404 with the null thought, or 204 for a DELETE).
 * - Query parameters are the handler's too: the validator parses the query string its own way
 *   (bracket keys, reserved characters), the monolith reads it as Express parsed it.
 * - An unsupported body media type is ignored, as the monolith ignores such bodies and reads
 *   the query string (the validator would say 415); an unknown charset of a supported type is
 *   the body parser's 415, as in the monolith.
 * Anything else goes on to the error handler unchanged.
 */
function contractValidationErrors(document: OpenApiDocument) {
  return (error: unknown, req: Request, _res: Response, next: NextFunction): void => {
    // The validator stopped before its own end, so the query may still be its rewritten copy.
    putQueryBack(req);
    const e = error as ValidatorError;
    // The validator's own 415 only; the body parser's (an unknown charset) is answered as in the monolith.
    if (e?.status === 415 && !isBodyParserError(error)) return next();
    if (e?.status !== 400 || !Array.isArray(e.errors)) return next(error);
    const bodyError = e.errors.find((item) => /^\/body\/[^/]+$/.test(item.path ?? ''));
    const field = bodyError?.path?.split('/').pop();
    if (!bodyError || !field || !earlierFieldsInBody(document, req, field)) return next();
    const typeName = /^must be (\w+)$/.exec(bodyError.message ?? '')?.[1];
    const message =
      bodyError.errorCode === 'type.openapi.validation' && typeName
        ? `${field} must be ${/^[aeiou]/.test(typeName) ? 'an' : 'a'} ${typeName}`
        : `${field} ${bodyError.message ?? 'is invalid'}`;
    next(invalidField(field, message));
  };
}

/** Body parser errors carry a `type` (`charset.unsupported`…); the validator's do not. */
function isBodyParserError(error: unknown): boolean {
  return typeof (error as { type?: unknown } | null)?.type === 'string';
}

/** True when every property the request body schema declares before `field` has a value in the body. */
function earlierFieldsInBody(document: OpenApiDocument, req: Request, field: string): boolean {
  const route = (req as Request & { openapi?: { openApiRoute?: string } }).openapi?.openApiRoute;
  const operation = route ? document.paths[route]?.[req.method.toLowerCase()] : undefined;
  const content = (operation as { requestBody?: { content?: Record<string, { schema?: unknown }> } } | undefined)?.requestBody?.content;
  const mediaType = content && Object.keys(content).find((type) => req.is(type));
  const schema = resolveRef(document, mediaType ? content[mediaType]?.schema : undefined) as { properties?: Record<string, unknown> } | undefined;
  const declared = Object.keys(schema?.properties ?? {});
  if (!declared.includes(field)) return false;
  const body = req.body as Record<string, unknown>;
  return declared.slice(0, declared.indexOf(field)).every((name) => body?.[name] !== undefined && body[name] !== null);
}

/** Follows a local `$ref` (`#/components/...`) to what it names. */
function resolveRef(document: OpenApiDocument, value: unknown): unknown {
  const ref = (value as { $ref?: unknown } | undefined)?.$ref;
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return value;
  return ref
    .slice(2)
    .split('/')
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], document);
}
