import type { DirectUploadTargets, UploadTarget, UploadTargetRequest } from '../../application/ports/direct-upload-targets.ts';

/** Where direct uploads are issued; `<upload_id>/complete` and `<upload_id>` below it (the HTTP adapter's routes). */
export const DIRECT_UPLOAD_PATH = '/v1/chat/upload/direct/';

/**
 * For stores with no signed URLs of their own (`local`, `memory`): the target is attache itself,
 * `PUT <base>/v1/chat/upload/direct/<upload_id>`, where the signed id is the credential, as a
 * presigned URL's signature is, so the protocol is the same whatever the driver.
 */
export class AttacheUploadTargets implements DirectUploadTargets {
  readonly viaAttache = true;
  readonly #baseUrl: string;

  /** `baseUrl`: where clients reach this service, e.g. `http://localhost:8080`. */
  constructor(baseUrl: string) {
    this.#baseUrl = baseUrl.replace(/\/+$/, '');
  }

  async targetFor({ uploadId }: UploadTargetRequest): Promise<UploadTarget> {
    return { method: 'PUT', url: `${this.#baseUrl}${DIRECT_UPLOAD_PATH}${encodeURIComponent(uploadId)}`, headers: {} };
  }
}
