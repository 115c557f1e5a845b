import type { Context } from 'koa';
import { InvalidUpload } from '../../../domain/errors.ts';
import { readJsonObject } from '../json-body.ts';

/** The JSON body of `POST /v1/chat/upload/direct/`, as the client sent it, its types checked. */
export interface Announcement {
  readonly fileName: string;
  readonly size: number;
  readonly sessionId: string | undefined;
  readonly sha256: string | undefined;
}

/** An announcement is a few hundred bytes; anything far larger is not one. */
const MAX_BODY_BYTES = 16 * 1024;

/**
 * Reads and checks the announcement's shape (InvalidUpload saying what is wrong); what its values
 * may be is the use case's to say. `session_id` may be a JSON string or a whole number.
 */
export async function readAnnouncement(ctx: Context): Promise<Announcement> {
  const body = await readJsonObject(ctx, MAX_BODY_BYTES);
  const { filename, size, session_id: sessionId, sha256 } = body;
  if (typeof filename !== 'string') throw new InvalidUpload('"filename" is required, a string');
  if (typeof size !== 'number') throw new InvalidUpload('"size" is required, a number of bytes');
  if (sessionId !== undefined && typeof sessionId !== 'string' && !Number.isSafeInteger(sessionId)) {
    throw new InvalidUpload('"session_id" must be a string');
  }
  if (sha256 !== undefined && typeof sha256 !== 'string') throw new InvalidUpload('"sha256" must be a hexadecimal string');
  return { fileName: filename, size, sessionId: sessionId === undefined ? undefined : String(sessionId), sha256 };
}
