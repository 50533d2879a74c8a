import type { Router } from 'express';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const STYLESHEET_PATH = '/static/bootstrap.css';

/**
 * Bootswatch's Flatly theme from the installed `bootswatch` package. Its Google Fonts
 * `@import` is removed so that no page makes a browser reach a third party (the font stack
 * falls back to the system fonts), and the source map comment because the map is not served.
 */
function loadFlatlyCss(): string {
  const file = createRequire(import.meta.url).resolve('bootswatch/dist/flatly/bootstrap.min.css');
  return readFileSync(file, 'utf8')
    .replace(/@import url\(https:\/\/fonts\.googleapis\.com\/[^)]*\);/g, '')
    .replace(/\/\*# sourceMappingURL=[^*]*\*\//g, '');
}

export function addStylesheetRoute(router: Router): void {
  const css = loadFlatlyCss();
  router.get(STYLESHEET_PATH, (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=86400');
    res.type('css').send(css);
  });
}
