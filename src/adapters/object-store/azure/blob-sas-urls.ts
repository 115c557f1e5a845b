import { BlobSASPermissions, StorageSharedKeyCredential, type BlobServiceClient, type ContainerClient, type UserDelegationKey } from '@azure/storage-blob';

/** A user delegation key is asked for this long (Azure's maximum, 7 days): one request a week at most. */
const DELEGATION_KEY_LIFETIME_MS = 7 * 24 * 3600_000;
/** Its start is set a little in the past, for clocks that disagree with Azure's. */
const CLOCK_SKEW_MS = 5 * 60_000;

/**
 * SAS URLs for single blobs: read-only (`sp=r`) for downloads, create-only (`sp=c`) for direct uploads,
 * valid for the life asked. With the account key, a service SAS
 * signed locally: no request. With an identity's token (no key), a user delegation SAS: signed with a user
 * delegation key asked of Azure (Get User Delegation Key; the identity needs
 * `Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey`, which Storage Blob Data
 * Contributor has), kept and reused until a URL would outlive it.
 */
export class BlobSasUrls {
  readonly #service: BlobServiceClient;
  readonly #container: ContainerClient;
  #delegationKey: Promise<UserDelegationKey> | undefined;

  constructor(service: BlobServiceClient, container: ContainerClient) {
    this.#service = service;
    this.#container = container;
  }

  /** Whether URLs can be signed at all: with the account key, or with a token to ask a delegation key for. */
  static canSign(service: BlobServiceClient): boolean {
    const credential = service.credential;
    return credential instanceof StorageSharedKeyCredential || 'getToken' in credential;
  }

  /** A SAS URL of the blob at `key` granting `permissions` (`r`, `c`: BlobSASPermissions' letters) for `lifeSeconds`. */
  async urlFor(key: string, permissions: 'r' | 'c', lifeSeconds: number): Promise<string> {
    const blob = this.#container.getBlobClient(key);
    const options = { permissions: BlobSASPermissions.parse(permissions), expiresOn: new Date(Date.now() + lifeSeconds * 1000) };
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
