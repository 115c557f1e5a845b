/**
 * What `npm start` prints when it made up development tokens: the tokens, and two commands that
 * work as printed against the service just started, on a real image from the checkout: the
 * spec's curl example, and the same upload through the `attache` command.
 */
import { fileURLToPath } from 'node:url';

/**
 * A small JPEG kept in docs/ (and in the package's `files`), so the printed curl has a real file
 * to send rather than the spec's `/path/to/image.jpg`. Resolved from src/ and dist/ alike.
 */
export const SAMPLE_ATTACHMENT_FILE = fileURLToPath(new URL('../../docs/sample-attachment.jpg', import.meta.url));

export interface DevelopmentBannerInput {
  /** `http://host:port` the service listens on. */
  readonly url: string;
  readonly tokens: { readonly admin: string; readonly store: string };
  /** Absolute path of the image the printed commands upload. */
  readonly sampleFile: string;
}

/** The banner's lines, ready to be joined with newlines. */
export function developmentBanner({ url, tokens, sampleFile }: DevelopmentBannerInput): string[] {
  return [
    '',
    'No AUTH_TOKENS_FILE is set, so attache made up two development tokens (valid until it stops):',
    `  admin (id 1): ${tokens.admin}`,
    `  store (id 1): ${tokens.store}`,
    '',
    'Try it, with a sample image from this checkout:',
    `  curl -X POST ${shellWord(`${url.replace('127.0.0.1', 'localhost')}/v1/chat/upload/`)} \\`,
    `    -H ${shellWord(`Authorization: Token ${tokens.store}`)} \\`,
    `    -F ${shellWord(`file=@${curlFileName(sampleFile)}`)} -F "session_id=1"`,
    '',
    'The same upload with the attache command, from this directory with the same environment variables:',
    `  npm run attache -- upload ${shellWord(sampleFile)} --as store --id 1 --session 1`,
    '',
  ];
}

/**
 * One word for a POSIX shell: in double quotes, as the spec's example writes them, unless it holds
 * a character the shell still expands there (`$`, a backquote, `"`, `\`, or `!` for bash's history);
 * then in single quotes, where only `'` itself needs care.
 */
function shellWord(text: string): string {
  if (!/[$`"\\!]/.test(text)) return `"${text}"`;
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * curl's -F reads `@name` up to a `;` (where `;type=` and the like begin) and gives `"` and `,`
 * meanings of their own; a name holding one of them goes in double quotes, with `"` and `\` escaped.
 */
function curlFileName(path: string): string {
  if (!/[;,"\\]/.test(path)) return path;
  return `"${path.replace(/["\\]/g, '\\$&')}"`;
}
