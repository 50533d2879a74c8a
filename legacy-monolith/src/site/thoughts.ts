import type { Request, Response, Router } from 'express';
import type { Monolith } from '../monolith.ts';
import { formString } from './auth.ts';
import type { Csrf } from './csrf.ts';
import { currentUser, type Render } from './views.ts';

// The `thoughts.text` column's size, in characters (the form's textarea says the same).
const MAX_TEXT_LENGTH = 250;

/** The logged-in user's own thoughts (the home page) and the form to share a new one. */
export function addThoughtRoutes(router: Router, { models, logger }: Monolith, csrf: Csrf, render: Render): void {
  const listOwnThoughts = async (req: Request, res: Response) => {
    const username = currentUser(res);
    if (!username) return res.redirect(302, '/login/');
    const rows = await models.thoughtsOf(username, 'newest first');
    render(res, 'thoughts.njk', { thoughts: rows, csrfToken: csrf.token(req, res) });
  };
  router.get('/', listOwnThoughts);
  router.get('/thoughts/', listOwnThoughts);

  router.post('/thoughts/new', async (req, res) => {
    const username = currentUser(res);
    if (!username) return res.redirect(302, '/login/');
    // Django's CharField strips surrounding whitespace, and a blank form is simply not saved.
    const text = formString(req, 'text').trim();
    if ([...text].length > MAX_TEXT_LENGTH) {
      // Only a hand-made request gets here (the textarea has maxlength); the original site
      // redirected without saving an invalid form, and so does this one.
      logger.warn({ username, length: [...text].length }, 'site: thought over the length limit not saved');
    } else if (text !== '') {
      await models.addThought(username, text);
    }
    res.redirect(302, '/thoughts/');
  });
}
