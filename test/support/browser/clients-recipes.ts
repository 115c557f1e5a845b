/**
 * docs/clients.md's browser recipes as the Uppy tests run them: the page's html (the XHRUpload
 * section's, which every recipe shares) and a recipe's `upload.js`, bundled with its printed address
 * and token replaced by the test's, served under `/<recipe>/`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { blockUnder } from '../docs-blocks.ts';
import { bundleForBrowser } from './bundle.ts';

const root = fileURLToPath(new URL('../../..', import.meta.url));
export const CLIENTS_PAGE = await readFile(join(root, 'docs/clients.md'), 'utf8');
/** What the recipes print for attache's address and a store token. */
export const PRINTED_ADDRESS = 'http://localhost:8080';
export const PRINTED_TOKEN = 'dev-store-3c84…';
/** The photo the docs upload, and its bytes. */
export const SAMPLE_PHOTO = join(root, 'docs/sample-attachment.jpg');
export const samplePhoto = await readFile(SAMPLE_PHOTO);

/** The page every recipe's `upload.js` runs in. */
export const RECIPE_PAGE = blockUnder(CLIENTS_PAGE, '## Uppy with XHRUpload', 'html');

/** `code` as it runs here: the printed address and token replaced by `address` and `token`. */
export function asHere(code: string, address: string, token: string): string {
  return code.replaceAll(PRINTED_ADDRESS, address).replaceAll(PRINTED_TOKEN, token);
}

/** Serves RECIPE_PAGE at `/<recipe>/page.html` and `script` bundled (its packages from `packagesFrom`, the checkout's by default) at `/<recipe>/upload.js`. */
export async function serveRecipe(served: Record<string, string>, recipe: string, script: string, packagesFrom?: string): Promise<void> {
  served[`/${recipe}/page.html`] = RECIPE_PAGE;
  served[`/${recipe}/upload.js`] = await bundleForBrowser(script, 'upload.js', packagesFrom);
}
