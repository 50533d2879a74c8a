import type { Router } from 'express';

/** The slashless page paths redirect permanently to the slashed ones (Django's APPEND_SLASH). */
export function addSlashRedirects(router: Router, paths: readonly string[]): void {
  for (const path of paths) {
    router.get(path, (req, res) => {
      const query = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?')) : '';
      res.redirect(301, `${path}/${query}`);
    });
  }
}
