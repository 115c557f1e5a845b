/** What @azure/storage-blob's RestErrors carry, read without trusting their shape. */
interface ErrorFacts {
  readonly name?: string;
  readonly code?: string;
  readonly statusCode?: number;
  readonly message?: string;
  readonly details?: { readonly errorCode?: string };
}

const facts = (error: unknown): ErrorFacts => (typeof error === 'object' && error !== null ? (error as ErrorFacts) : {});

export const statusOf = (error: unknown): number | undefined => facts(error).statusCode;

/** Azure's error code (`BlobNotFound`, `ContainerNotFound`, ...): from the body, or the x-ms-error-code header of a HEAD. */
export const errorCodeOf = (error: unknown): string | undefined => facts(error).details?.errorCode ?? facts(error).code;

export const isMissingContainer = (error: unknown): boolean => errorCodeOf(error) === 'ContainerNotFound';

/** Nothing at the key, in a container that exists. */
export const isMissingBlob = (error: unknown): boolean => statusOf(error) === 404 && !isMissingContainer(error);

/**
 * A create refused because the key is taken. Azure answers `If-None-Match: *` on a taken blob with
 * 409 BlobAlreadyExists (where S3 answers 412); 412 ConditionNotMet is taken too.
 */
export const isConflict = (error: unknown): boolean => {
  const status = statusOf(error);
  return status === 409 || status === 412 || errorCodeOf(error) === 'BlobAlreadyExists';
};

/** A failed Azure call's cause, in words an operator can act on. */
export function explain(error: unknown): string {
  const { name, code, message } = facts(error);
  const status = statusOf(error);
  const azureCode = errorCodeOf(error);
  if (azureCode === 'ContainerNotFound') return 'the container does not exist';
  if (status === 403 || azureCode === 'AuthenticationFailed' || azureCode === 'AuthorizationFailure') {
    return `access denied (${azureCode ?? 'HTTP 403'}): check the credentials and their role on the container`;
  }
  if (name === 'CredentialUnavailableError' || name === 'AuthenticationError') return `no usable credentials: ${message}`;
  if (name === 'AbortError') return `no answer in time (${message})`;
  if (status === undefined && code !== undefined) return `unreachable (${code}${message ? `: ${message}` : ''})`;
  if (status !== undefined) return `${azureCode ?? 'error'} (HTTP ${status})`;
  return `${name ?? 'error'}: ${message ?? String(error)}`;
}

/** Why an Azure call failed, for logs: `where` names the container and endpoint; never credentials. */
export function describeFailure(where: string, action: string, error: unknown): string {
  return `cannot ${action} in ${where}: ${explain(error)}`;
}
