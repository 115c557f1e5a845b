import { documented, optional } from './variable-syntax.ts';

/** Read only by the `attache` command. */
export const COMMAND_VARIABLES = {
  ATTACHE_TOKEN: documented(optional, { default: '(none)', doc: 'The token `attache upload` uses when `--token` is not given.', cliOnly: true }),
  INIT_CWD: documented(optional, {
    default: '(set by npm)',
    doc: 'Where `npm run attache -- …` was typed: npm sets it, and the file names given to `attache upload`, like relative `AUTH_TOKENS_FILE`, `LOCAL_STORAGE_DIR` and `CLAMD_SOCKET` paths, are relative to it.',
    cliOnly: true,
  }),
  CI: documented(optional, { default: '(unset)', doc: '`true` (as CI systems set it): `attache upload` draws no progress bar.', cliOnly: true }),
};
