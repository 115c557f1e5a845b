import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * `source` (an ES module, as a page's author writes it, importing packages by name) bundled for a
 * browser with esbuild, its packages resolved from the checkout's node_modules: what a page's
 * bundler (Vite, webpack, esbuild) would serve. `packagesFrom`: another folder whose node_modules
 * has the packages (test/support/browser/uppy-aws-s3: Uppy 5, beside the project's Uppy 6).
 */
export async function bundleForBrowser(source: string, name = 'page.js', packagesFrom = root): Promise<string> {
  const result = await build({
    stdin: { contents: source, resolveDir: packagesFrom, sourcefile: name, loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}
