import { describe, expect, it } from 'vitest';
import { createTokenSigner } from '@mythoughts/runtime/tokens';
import { generateKeyPairSync } from 'node:crypto';
import { hurlSuite } from '../src/replay/hurlSuite.ts';
import { SUITE_FORMAT, type ReplayCase } from '../src/replay/suite.ts';
import { claimedUsername, recordRequest } from '../src/shadow/recordedRequest.ts';
import { answerView } from '../src/shadow/mismatchStore.ts';
import { KEPT_BODY_BYTES } from '../src/shadow/secrets.ts';

const nobody = () => null;

describe('what a mismatch record keeps of a request', () => {
  it('replaces a token by its user placeholder, drops cookies and secret-named headers, redacts query secrets and body fields', () => {
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const token = createTokenSigner(privateKey).sign('stephen');
    const recorded = recordRequest(
      {
        method: 'POST',
        target: '/api/login/?username=s&password=hunter2&page=2',
        headers: {
          authorization: `Bearer ${token}`,
          cookie: 'session=abc',
          'x-auth-token': 'xyz',
          'x-forwarded-for': '10.0.0.1',
          'x-request-id': 'r1',
          'x-gateway-shadow': '1',
          'content-type': 'application/x-www-form-urlencoded',
          accept: '*/*',
        },
        body: Buffer.from('username=s&password=hunter2'),
      },
      claimedUsername,
    );
    expect(recorded).toEqual({
      method: 'POST',
      target: '/api/login/?username=s&password=[redacted]&page=2',
      headers: { accept: '*/*', authorization: 'Bearer {{token:stephen}}', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=s&password=[redacted]',
      unreplayable: null,
    });
  });

  it('redacts a token that does not verify, Basic credentials, JSON secret fields and JWTs in bodies; a body over the cap is not replayable', () => {
    const copy = (authorization: string, body: string, contentType = 'application/json') => ({
      method: 'PUT',
      target: '/x',
      headers: { authorization, 'content-type': contentType },
      body: Buffer.from(body),
    });
    expect(recordRequest(copy('Bearer forged', '{"text":"t","newPassword":"p"}'), nobody)).toMatchObject({
      headers: { authorization: '[redacted]' },
      body: '{"text":"t","newPassword":"[redacted]"}',
    });
    expect(recordRequest(copy('Basic dXNlcjpwYXNz', 'see eyJhbGciOi.eyJ1c2VyIjoi.c2lnbmF0dXJl', 'text/plain'), nobody)).toMatchObject({
      headers: { authorization: '[redacted]' },
      body: 'see [redacted]',
    });
    const big = recordRequest(copy('Basic x', 'x'.repeat(KEPT_BODY_BYTES + 1)), nobody);
    expect(big).toMatchObject({ body: null, unreplayable: `its body (${KEPT_BODY_BYTES + 1} bytes) is over the ${KEPT_BODY_BYTES} bytes a record keeps` });
  });

  it('keeps an answer body up to the cap, saying when it is cut, with tokens redacted', () => {
    const answer = (text: string) => ({
      ok: true as const,
      backend: 'legacy',
      status: 200,
      headers: { 'set-cookie': 's=1' },
      body: Buffer.from(text),
      truncated: false,
      bodyBytes: text.length,
      ms: 1,
    });
    expect(answerView(answer('{"Authorized":"Bearer abc.def.ghi"}'))).toMatchObject({
      body: '{"Authorized":"Bearer [redacted]"}',
      truncated: false,
      headers: { 'set-cookie': '[redacted]' },
    });
    const long = answerView(answer('y'.repeat(KEPT_BODY_BYTES * 2)));
    expect(long).toMatchObject({ truncated: true, bodyBytes: KEPT_BODY_BYTES * 2 });
    expect(long.body).toHaveLength(KEPT_BODY_BYTES);
  });
});

describe('the hurl format', () => {
  const base: ReplayCase = {
    name: 'r: GET /a?q={{x}}',
    route: 'r',
    recordedAt: '2026-12-07T00:00:00.000Z',
    requestId: 'req-1',
    request: {
      method: 'POST',
      target: '/a?q={{x}}&p=[redacted]',
      headers: { 'content-type': 'application/json', 'x-note': 'a # b {{c}} \\' },
      body: '{"t":"{{x}}"}',
    },
    expect: {
      backend: 'legacy',
      status: 201,
      headers: { 'content-type': 'application/json' },
      body: '{"s":"say \\"hi\\"\\n{{x}}","n":1.5,"b":true,"z":null,"e":{},"big":1e21,"skip":{"me":1}}',
      truncated: false,
      bodyBytes: 80,
    },
    compare: { headers: ['content-type'], ignore: ['$.skip'], noise: [] },
    recordedDiff: ['$.s: "a\nb" → "c"'],
  };

  it('escapes what Hurl reads specially: templates, comments, quotes, control characters; numbers Hurl cannot write are left out', () => {
    const text = hurlSuite({ format: SUITE_FORMAT, exportedAt: 'now', source: 'http://admin', cases: [base] });
    const entry = text.slice(text.indexOf('# 1.')).trimEnd().split('\n');
    expect(entry).toEqual([
      '# 1. r: GET /a?q={{x}} (recorded 2026-12-07T00:00:00.000Z, request req-1)',
      '#    shadow saw $.s: "a b" → "c"',
      'POST {{base_url}}/a?q=%7B%7Bx%7D%7D&p=%5Bredacted%5D',
      'content-type: application/json',
      'x-note: a \\# b \\u{7b}\\u{7b}c}} \\\\',
      '{"t":"{\\u007bx}}"}',
      'HTTP 201',
      '[Asserts]',
      'header "content-type" == "application/json"',
      'jsonpath "$.s" == "say \\"hi\\"\\u{a}\\u{7b}\\u{7b}x}}"',
      'jsonpath "$.n" == 1.5',
      'jsonpath "$.b" == true',
      'jsonpath "$.z" == null',
      'jsonpath "$.e" isCollection',
      '# 1 more field not asserted',
    ]);
    expect(text).not.toContain('login_url');
  });
});
