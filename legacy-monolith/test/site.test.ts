import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, createUser, csrfTokenOf, startTestMonolith, thoughtTextsOf, type TestMonolith } from './helpers.ts';

let monolith: TestMonolith;
beforeAll(async () => {
  monolith = await startTestMonolith();
});
afterAll(async () => {
  await monolith?.stop();
});

const browser = () => new Browser(monolith.url);

describe('the login, share, list, search and logout flow', () => {
  it('logs in, shares, lists newest first, searches and logs out', async () => {
    const user = await createUser(monolith.url);
    const alice = browser();

    const login = await alice.logIn(user.username, user.password);
    expect(login.status).toBe(302);
    expect(login.headers.get('location')).toBe('/');
    const sessionCookie = login.headers.getSetCookie().find((line) => line.startsWith('session='));
    expect(sessionCookie).toMatch(/; Path=\//);
    expect(sessionCookie).toMatch(/; HttpOnly/);
    expect(sessionCookie).toMatch(/; SameSite=Lax/);

    const empty = await (await alice.get('/')).text();
    expect(empty).toContain(`${user.username} <a class="link-light" href="/logout/">(logout)</a>`);
    expect(empty).toContain('<textarea');
    expect(empty).toMatch(/<form method="post" action="\/thoughts\/new">/);
    expect(empty).toMatch(/<textarea[^>]* name="text" maxlength="250"/);
    expect(empty).toMatch(/<button[^>]*>Share<\/button>/);

    for (const text of ['First Marmalade thought', 'Second thought']) {
      const shared = await alice.share(text);
      expect(shared.status).toBe(302);
      expect(shared.headers.get('location')).toBe('/thoughts/');
    }

    const own = await (await alice.get('/thoughts/')).text();
    expect(thoughtTextsOf(own)).toEqual(['Second thought', 'First Marmalade thought']);
    expect(own).not.toContain('A few seconds more'); // bruce's thoughts are not on alice's page

    const found = await (await alice.get('/search?search=marMALADE')).text();
    expect(thoughtTextsOf(found)).toEqual(['First Marmalade thought']);

    const logout = await alice.get('/logout/');
    expect(logout.status).toBe(302);
    expect(logout.headers.get('location')).toBe('/login/');
    expect(alice.cookies.has('session')).toBe(false);
    expect((await alice.get('/thoughts/')).status).toBe(302);
  });

  it('shows the seed thoughts with their dates, newest first', async () => {
    const bruce = browser();
    await bruce.logIn('bruce', 'password');
    const page = await (await bruce.get('/thoughts/')).text();
    const texts = thoughtTextsOf(page).slice(-3);
    expect(texts[0]).toMatch(/^In a few seconds/);
    expect(texts[2]).toMatch(/^A few seconds more/);
    expect(page).toContain('May 11, 1962, 9:53 a.m.');
    expect(page).toContain('May 11, 1962, 10:07 a.m.');
  });

  it('logout ends the session on the server: the old cookie no longer works', async () => {
    const user = await createUser(monolith.url);
    const alice = browser();
    await alice.logIn(user.username, user.password);
    const stolen = alice.cookies.get('session')!;
    await alice.get('/logout/');
    const thief = browser();
    thief.cookies.set('session', stolen);
    expect((await thief.get('/thoughts/')).status).toBe(302);
  });

  it('answers a wrong password with the form and the message, and no session', async () => {
    const visitor = browser();
    const response = await visitor.logIn('bruce', 'wrong');
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('Invalid login/password, please try again.');
    expect(html).toContain('<legend class="mb-3">Login</legend>');
    expect(visitor.cookies.has('session')).toBe(false);
  });

  it('does not store an empty or blank thought', async () => {
    const user = await createUser(monolith.url);
    const alice = browser();
    await alice.logIn(user.username, user.password);
    expect((await alice.share('   ')).headers.get('location')).toBe('/thoughts/');
    expect(thoughtTextsOf(await (await alice.get('/thoughts/')).text())).toEqual([]);
  });
});

describe('CSRF', () => {
  it('refuses a login without the token with 403', async () => {
    const visitor = browser();
    await visitor.get('/login/'); // has the cookie, but does not send the field
    const response = await visitor.postForm('/login/', { username: 'bruce', password: 'password' });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('<title>MyThoughts</title>');
    expect(visitor.cookies.has('session')).toBe(false);
  });

  it('refuses a token that does not match the cookie', async () => {
    const visitor = browser();
    const token = csrfTokenOf(await (await visitor.get('/login/')).text());
    const response = await visitor.postForm('/login/', { username: 'bruce', password: 'password', csrf_token: `${token.slice(0, -2)}00` });
    expect(response.status).toBe(403);
  });

  it('refuses a token without its cookie', async () => {
    const token = csrfTokenOf(await (await browser().get('/login/')).text());
    const response = await browser().postForm('/login/', { username: 'bruce', password: 'password', csrf_token: token });
    expect(response.status).toBe(403);
  });

  it('refuses sharing a thought without the token, and stores nothing', async () => {
    const user = await createUser(monolith.url);
    const alice = browser();
    await alice.logIn(user.username, user.password);
    const response = await alice.postForm('/thoughts/new', { text: 'forged' });
    expect(response.status).toBe(403);
    expect(thoughtTextsOf(await (await alice.get('/thoughts/')).text())).toEqual([]);
  });

  it('refuses a token issued before login once the session changed', async () => {
    const user = await createUser(monolith.url);
    const alice = browser();
    const tokenBeforeLogin = csrfTokenOf(await (await alice.get('/login/')).text());
    await alice.postForm('/login/', { ...user, csrf_token: tokenBeforeLogin });
    const response = await alice.postForm('/thoughts/new', { text: 'old token', csrf_token: tokenBeforeLogin });
    expect(response.status).toBe(403);
  });
});

describe('escaping', () => {
  it('shows a thought with a <script> as text', async () => {
    const user = await createUser(monolith.url);
    const alice = browser();
    await alice.logIn(user.username, user.password);
    await alice.share('<script>alert("x")</script> & more');
    for (const path of ['/thoughts/', '/search?search=alert']) {
      const html = await (await alice.get(path)).text();
      expect(html).not.toContain('<script>alert');
      expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more');
    }
  });

  it('escapes the search term shown back in the search box', async () => {
    const html = await (await browser().get('/search?search=%22%3E%3Cb%3E')).text();
    expect(html).toContain('value="&quot;&gt;&lt;b&gt;"');
    expect(html).not.toContain('"><b>');
  });
});

describe('redirects', () => {
  it.each(['/login', '/thoughts', '/logout'])('%s answers 301 to the slashed path', async (path) => {
    const response = await browser().get(`${path}?a=1`);
    expect(response.status).toBe(301);
    expect(response.headers.get('location')).toBe(`${path}/?a=1`);
  });

  it.each(['/', '/thoughts/'])('%s sends a visitor who is not logged in to /login/', async (path) => {
    const response = await browser().get(path);
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/login/');
  });

  it('sends a visitor who posts a thought without being logged in to /login/', async () => {
    const visitor = browser();
    const token = csrfTokenOf(await (await visitor.get('/login/')).text());
    const response = await visitor.postForm('/thoughts/new', { text: 'anonymous', csrf_token: token });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/login/');
    const all = await (await visitor.get('/search')).text();
    expect(thoughtTextsOf(all)).not.toContain('anonymous');
  });
});

describe('one session per user', () => {
  it('logging in again logs the older session out', async () => {
    const user = await createUser(monolith.url);
    const laptop = browser();
    const phone = browser();
    await laptop.logIn(user.username, user.password);
    expect((await laptop.get('/thoughts/')).status).toBe(200);

    await phone.logIn(user.username, user.password);
    expect(phone.cookies.get('session')).not.toBe(laptop.cookies.get('session'));
    expect((await phone.get('/thoughts/')).status).toBe(200);
    const old = await laptop.get('/thoughts/');
    expect(old.status).toBe(302);
    expect(old.headers.get('location')).toBe('/login/');
  });
});

describe('search', () => {
  it('says so when nothing matches', async () => {
    const response = await browser().get('/search?search=no-such-thought-anywhere');
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('No results for your search');
    expect(thoughtTextsOf(html)).toEqual([]);
  });

  it("lists everyone's thoughts newest first without a parameter, logged out too", async () => {
    const html = await (await browser().get('/search')).text();
    const texts = thoughtTextsOf(html);
    expect(texts.length).toBeGreaterThanOrEqual(5);
    expect(texts.at(-1)).toMatch(/^A few seconds more/);
    expect(texts.at(-5)).toMatch(/^Tonight I shall visit you!/);
    expect(html).not.toContain('No results for your search');
  });

  it('treats % and _ literally', async () => {
    const html = await (await browser().get('/search?search=%25')).text();
    expect(html).toContain('No results for your search');
  });

  it('strips whitespace around the term, as the API does (the known legacy quirk of contract §5)', async () => {
    const demo = (html: string) => thoughtTextsOf(html).filter((text) => /^(A few|And now|In a few|Naturally|Tonight)/.test(text));
    const padded = demo(await (await browser().get('/search?search=%20now%20')).text());
    expect(padded).toEqual(demo(await (await browser().get('/search?search=now')).text()));
    // "know", "now," and "Now go": newest first.
    expect(padded.map((text) => text.slice(0, 8))).toEqual(['Tonight ', 'And now,', 'A few se']);
  });
});

describe('every page', () => {
  it.each(['/login/', '/search', '/no-such-page/'])('%s has the title, the brand and the search form', async (path) => {
    const html = await (await browser().get(path)).text();
    expect(html).toContain('<title>MyThoughts</title>');
    expect(html).toMatch(/<a class="navbar-brand[^"]*" href="\/thoughts\/">MyThoughts<\/a>/);
    expect(html).toMatch(/<form[^>]* method="get" action="\/search"[^>]*>[\s\S]*name="search"/);
    expect(html).toContain('<link rel="stylesheet" href="/static/bootstrap.css">');
  });

  it('has the login form with its fields', async () => {
    const html = await (await browser().get('/login/')).text();
    for (const field of ['username', 'password', 'csrf_token']) expect(html).toContain(`name="${field}"`);
    expect(html).toContain('<input type="hidden" name="csrf_token"');
    expect(html).toMatch(/<button[^>]*type="submit">Submit<\/button>/);
  });

  it('serves the Flatly stylesheet locally, without third-party fonts', async () => {
    const response = await browser().get('/static/bootstrap.css');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/css/);
    const css = await response.text();
    expect(css).toContain('Theme: flatly');
    expect(css).not.toContain('fonts.googleapis.com');
  });

  it('answers an unknown page with an HTML 404', async () => {
    const response = await browser().get('/no-such-page/');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
  });
});
