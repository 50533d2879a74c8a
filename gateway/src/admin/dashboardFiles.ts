import { readFileSync } from 'node:fs';
import { Router, type NextFunction, type Request, type Response } from 'express';

/**
 * The dashboard's static files, read once at start. They hold no data (everything comes
 * from /api with the token the page asks for), so they are served without the token: a
 * browser cannot send a bearer header when it navigates to a page.
 */
const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/dashboard/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard/rollout.js': { file: 'rollout.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard/fleet.js': { file: 'fleet.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard/mismatches.js': { file: 'mismatches.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
  '/dashboard/icon.svg': { file: 'icon.svg', type: 'image/svg+xml' },
};

/** No inline script or style, nothing from elsewhere, no framing: an injected string cannot run. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers for every answer of the admin port (JSON included). */
export function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cache-Control', 'no-store');
  next();
}

export function dashboardFiles(): Router {
  const router = Router();
  for (const [route, { file, type }] of Object.entries(FILES)) {
    const body = readFileSync(new URL(`./dashboard/${file}`, import.meta.url));
    router.get(route, (_req, res) => {
      res.type(type).send(body);
    });
  }
  return router;
}
