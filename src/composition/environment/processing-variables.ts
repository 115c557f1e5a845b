import { z } from 'zod';
import { documented, text, optional, integer, onOff } from './variable-syntax.ts';

/** PREVIEW_MAX_HELD_BYTES when neither it nor a larger MAX_FILE_SIZE is set. */
export const DEFAULT_PREVIEW_MAX_HELD_BYTES = 64 * 1024 * 1024;

/** What happens to a file on its way in: malware scanning, previews, metadata stripping. */
export const PROCESSING_VARIABLES = {
  MALWARE_SCAN: documented(z.enum(['off', 'clamd'], 'must be off or clamd').default('off'), {
    doc: '`clamd`: every upload is scanned by ClamAV’s daemon as it streams, before a URL is handed out (infected: 422 `File rejected`); `off`: no scanning.',
  }),
  CLAMD_HOST: documented(text.default('127.0.0.1'), { doc: 'Host of clamd’s TCP socket (`TCPAddr`).' }),
  CLAMD_PORT: documented(integer(1, 65535).default(3310), { doc: 'Port of clamd’s TCP socket (`TCPSocket`).' }),
  CLAMD_SOCKET: documented(optional, { default: '(none: TCP)', doc: 'Path of clamd’s Unix socket (`LocalSocket`); used instead of host and port when set.' }),
  CLAMD_TIMEOUT_MS: documented(integer(100, 600_000).default(30_000), {
    doc: 'Longest clamd may take to connect, to take more bytes, or to answer once it has the whole file; at least its scan time for a MAX_FILE_SIZE file under load.',
  }),
  MALWARE_SCAN_ON_ERROR: documented(z.enum(['reject', 'accept'], 'must be reject or accept').default('reject'), {
    doc: 'When clamd cannot answer: `reject` (503 `Scanner unavailable`, nothing stored) or `accept` (stored unscanned, logged and counted). A file larger than clamd reads is refused either way.',
  }),
  PREVIEWS: documented(onOff.default('on'), {
    doc: '`on`: every image (JPEG, PNG, GIF, HEIC, HEIF) gets a WebP preview stored beside it, and the answer gains `preview_url`, `width`, `height`; `off`: none.',
  }),
  PREVIEW_MAX_PX: documented(integer(16, 8192).default(1280), { doc: 'Longest side of a preview, in pixels (smaller images are not enlarged).' }),
  PREVIEW_MAX_PIXELS: documented(integer(1, 1_000_000_000).default(50_000_000), {
    doc: 'Images declaring more pixels are stored without a preview (a decompression bomb never decodes).',
  }),
  PREVIEW_CONCURRENCY: documented(integer(1, 64).default(1), { doc: 'Images decoded at once; the others wait, their bytes in memory.' }),
  PREVIEW_MAX_WAITING: documented(integer(0, 1000).default(16), {
    doc: 'Whole images waiting for a decode beyond those being decoded; more are stored without a preview (`busy`).',
  }),
  PREVIEW_MAX_HELD_BYTES: documented(integer(0, Number.MAX_SAFE_INTEGER).optional(), {
    default: '67108864 (64 MiB), or `MAX_FILE_SIZE` when larger',
    doc: 'Bytes of images held in memory for previews across all uploads, from their first byte until decoded; an image that would go over is stored without a preview (`busy`). Bounds what previews hold, however slowly images arrive.',
  }),
  PREVIEW_TIMEOUT_MS: documented(integer(1000, 600_000).default(20_000), { doc: 'Longest one preview may take; a slower image is stored without one.' }),
  STRIP_METADATA: documented(onOff.default('off'), {
    doc: '`on`: JPEG and PNG originals lose EXIF (but their orientation), GPS, XMP, IPTC and comments as they are stored, without re-encoding; other types are stored as sent.',
  }),
};
