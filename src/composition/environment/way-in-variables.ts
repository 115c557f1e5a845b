import { z } from 'zod';
import { documented, integer, onOff, SIGNED_URL_MAX_TTL } from './variable-syntax.ts';

/** The ways in besides multipart: direct uploads and resumable (tus) uploads. */
export const WAY_IN_VARIABLES = {
  DIRECT_UPLOADS: documented(onOff.optional(), {
    default: '`on`; `off` with `NODE_ENV=production`',
    doc: "The direct-upload routes (`/v1/chat/upload/direct/`): clients send the bytes straight to storage, then attache checks what was stored. Opt-in in production, where it needs a `DIRECT_UPLOAD_SECRET` shared by every instance (and, for browsers, CORS on the bucket), so an upgrade never starts refusing to start; on elsewhere, so the documented examples work on the embedded default.",
  }),
  DIRECT_UPLOAD_SECRET: documented(z.string().min(32, 'must be at least 32 characters').optional(), {
    default: '(made up at every start, outside production)',
    doc: 'Key of the HMAC that signs `upload_id`s, at least 32 characters, the same on every instance; required with direct uploads on and `NODE_ENV=production`.',
  }),
  DIRECT_UPLOAD_PREVIOUS_SECRET: documented(z.string().min(32, 'must be at least 32 characters').optional(), {
    default: '(none)',
    doc: 'While rotating the secret: the one being replaced, whose `upload_id`s are still accepted (new ones are signed with `DIRECT_UPLOAD_SECRET`). Remove it twice `DIRECT_UPLOAD_TTL` after the switch.',
  }),
  DIRECT_UPLOAD_TTL: documented(integer(1, SIGNED_URL_MAX_TTL).default(900), {
    doc: "Seconds a direct upload's storage URL accepts bytes (15 minutes); its `upload_id` can be completed for as long again after that.",
  }),
  RESUMABLE_UPLOAD_TTL: documented(integer(60, 30 * 86_400).default(86_400), {
    doc: "Seconds a resumable upload (`/v1/chat/upload/resumable/`) takes requests after its creation (24 hours, its `Upload-Expires`); what was sent and never finished is then swept with the staged prefix (`attache storage setup`).",
  }),
};
