import { BlobSASPermissions, StorageSharedKeyCredential, type BlobServiceClient, type ContainerClient, type UserDelegationKey } from '@azure/storage-blob';

/** A user delegation key is asked for this long (Azure's maximum, 7 days): one request a week at most. */
const DELEGATION_KEY_LIFETIME_MS = 7 * 24 * 3600_000;
/** Its start is set a little in the past, for clocks that disagree with Azure's. */
const CLOCK_SKEW_MS = 5 * 60_000;

/**
 * Read-only SAS URLs for single blobs (`sp=r`), valid `ttlSeconds`. With the account key, a service SAS
 * signed locally: no request. With an identity's token (no key), a user delegation SAS: signed with a user
 * delegation key asked of Azure (Get User Delegation Key; the identity needs
 * `Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey`, which Storage Blob Data
 * Contributor has), kept and reused until a URL would outlive it.
 */
export class BlobReadUrls {
  readonly #service: BlobServiceClient;
  readonly #container: ContainerClient;
  readonly #ttlMs: number;
  #delegationKey: Promise<UserDelegationKey> | undefined;

  constructor(service: BlobServiceClient, container: ContainerClient, ttlSeconds: number) {
    this.#service = service;
    this.#container = container;
    this.#ttlMs = ttlSeconds * 1000;
  }

  /** Whether URLs can be signed at all: with the account key, or with a token to ask a delegation key for. */
  static canSign(service: BlobServiceClient): boolean {
    const credential = service.credential;
    return credential instanceof StorageSharedKeyCredential || 'getToken' in credential;
  }

  /** A read-only SAS URL living AZURE_URL_TTL, or `lifeSeconds` when given (a stable link's redirect). */
  async urlFor(key: string, lifeSeconds?: number): Promise<string> {
    const blob = this.#container.getBlobClient(key);
    const lifeMs = lifeSeconds === undefined ? this.#ttlMs : lifeSeconds * 1000;
    const options = { permissions: BlobSASPermissions.parse('r'), expiresOn: new Date(Date.now() + lifeMs) };
    if (this.#service.credential instanceof StorageSharedKeyCredential) return blob.generateSasUrl(options);
    return blob.generateUserDelegationSasUrl(options, await this.#keyValidUntil(options.expiresOn));
  }

  /** A delegation key that outlives `expiresOn`: the one kept, or a new one (one request shared by concurrent callers). */
  async #keyValidUntil(expiresOn: Date): Promise<UserDelegationKey> {
    const kept = this.#delegationKey;
    if (kept !== undefined) {
      const key = await kept.catch(() => undefined);
      if (key !== undefined && key.signedExpiresOn.getTime() >= expiresOn.getTime()) return key;
      // Another caller may have replaced it meanwhile: ask only once.
      if (this.#delegationKey !== kept) return this.#keyValidUntil(expiresOn);
    }
    const now = Date.now();
    const asked = this.#service.getUserDelegationKey(new Date(now - CLOCK_SKEW_MS), new Date(now + DELEGATION_KEY_LIFETIME_MS));
    this.#delegationKey = asked;
    // A failed request is not kept: the next URL asks again.
    asked.catch(() => {
      if (this.#delegationKey === asked) this.#delegationKey = undefined;
    });
    return asked;
  }
}
