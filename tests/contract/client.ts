/** A minimal HTTP client for contract tests: raw status, headers and body, no redirects followed. */
export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  json(): unknown;
}

export interface RequestOptions {
  json?: unknown;
  /** Raw body sent as-is with `Content-Type: application/json` (for malformed JSON). */
  rawJson?: string;
  form?: Record<string, string>;
  /** A body sent byte for byte with this Content-Type (for bad charsets and invalid UTF-8). */
  raw?: { contentType: string; body: string | Buffer<ArrayBuffer> };
  headers?: Record<string, string>;
}

export async function send(url: string, method: string, options: RequestOptions = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | Buffer<ArrayBuffer> | undefined;
  if (options.json !== undefined || options.rawJson !== undefined) {
    headers['content-type'] = 'application/json';
    body = options.rawJson ?? JSON.stringify(options.json);
  } else if (options.raw) {
    headers['content-type'] = options.raw.contentType;
    body = options.raw.body;
  } else if (options.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(options.form).toString();
  }
  const response = await fetch(url, { method, headers, body, redirect: 'manual' });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
}
