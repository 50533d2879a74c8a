import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startService, type RunningService } from '@mythoughts/shared/http/service';
import { monolithService } from '../src/service.ts';

export interface TestMonolith {
  url: string;
  stop(): Promise<void>;
}

/** The monolith on a free port with its own seeded SQLite database and dev keys in a temp dir. */
export async function startTestMonolith(): Promise<TestMonolith> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'mythoughts-monolith-'));
  // The logger reads LOG_LEVEL from the process environment.
  process.env.LOG_LEVEL = 'silent';
  const env = {
    LEGACY_PORT: '0',
    DATA_DIR: dataDir,
    SQLITE_FILE: path.join(dataDir, 'test.sqlite'),
    LOG_LEVEL: 'silent',
  };
  const service: RunningService = await startService(monolithService, env);
  return {
    url: service.url,
    async stop() {
      await service.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A browser in miniature: keeps the cookies it is given, never follows redirects (the tests
 * check them), and posts forms URL-encoded.
 */
export class Browser {
  readonly cookies = new Map<string, string>();

  /** `headers` go with every request (e.g. the X-Forwarded-For a gateway would add). */
  constructor(
    private readonly baseUrl: string,
    private readonly headers: Record<string, string> = {},
  ) {}

  get(pathAndQuery: string): Promise<Response> {
    return this.request(pathAndQuery, { method: 'GET' });
  }

  postForm(pathAndQuery: string, fields: Record<string, string>): Promise<Response> {
    return this.request(pathAndQuery, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  }

  /** Fetches the login page, then posts the credentials with its CSRF token. */
  async logIn(username: string, password: string): Promise<Response> {
    const token = csrfTokenOf(await (await this.get('/login/')).text());
    return this.postForm('/login/', { username, password, csrf_token: token });
  }

  /** Fetches the user's page, then shares a thought with its CSRF token. */
  async share(text: string): Promise<Response> {
    const token = csrfTokenOf(await (await this.get('/thoughts/')).text());
    return this.postForm('/thoughts/new', { text, csrf_token: token });
  }

  private async request(pathAndQuery: string, init: RequestInit): Promise<Response> {
    const headers = new Headers({ ...this.headers, ...(init.headers as Record<string, string> | undefined) });
    if (this.cookies.size > 0) {
      headers.set('cookie', [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; '));
    }
    const response = await fetch(new URL(pathAndQuery, this.baseUrl), { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) this.store(line);
    return response;
  }

  private store(setCookie: string): void {
    const [pair = '', ...attributes] = setCookie.split(';').map((part) => part.trim());
    const separator = pair.indexOf('=');
    const name = pair.slice(0, separator);
    const value = pair.slice(separator + 1);
    const expired = attributes.some((attribute) => {
      const [key = '', date = ''] = attribute.split('=');
      return key.toLowerCase() === 'expires' && Date.parse(date) <= Date.now();
    });
    if (expired || value === '') this.cookies.delete(name);
    else this.cookies.set(name, value);
  }
}

/** The value of the page's hidden `csrf_token` field. */
export function csrfTokenOf(html: string): string {
  const match = /name="csrf_token" value="([^"]+)"/.exec(html);
  if (!match) throw new Error(`no csrf_token field in the page:\n${html.slice(0, 500)}`);
  return match[1]!;
}

/** The texts of the thought cards of a page, in page order. */
export function thoughtTextsOf(html: string): string[] {
  return [...html.matchAll(/<p class="card-text"[^>]*>([\s\S]*?)<\/p>/g)].map((match) => match[1]!);
}

let userCount = 0;

/** A fresh user (through the internal API), so that tests sharing a database do not meet. */
export async function createUser(baseUrl: string): Promise<{ username: string; password: string }> {
  userCount += 1;
  const user = { username: `tester${userCount}_${process.pid}`, password: `secret-${userCount}` };
  const response = await fetch(new URL('/admin/users/', baseUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(user),
  });
  if (response.status !== 201) throw new Error(`creating ${user.username}: HTTP ${response.status} ${await response.text()}`);
  return user;
}
