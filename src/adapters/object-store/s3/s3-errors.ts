/** What the AWS SDK's errors carry, read without trusting their shape. */
interface ErrorFacts {
  readonly name?: string;
  readonly code?: string;
  readonly message?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

export const facts = (error: unknown): ErrorFacts => (typeof error === 'object' && error !== null ? (error as ErrorFacts) : {});

export const statusOf = (error: unknown): number | undefined => facts(error).$metadata?.httpStatusCode;

export const isNotFound = (error: unknown): boolean => {
  const { name } = facts(error);
  return name === 'NoSuchKey' || name === 'NotFound' || (statusOf(error) === 404 && name !== 'NoSuchBucket');
};

/**
 * S3 answers a conditional write on a taken key with 412; with 409 ConditionalRequestConflict when another
 * write to the key is in progress (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html).
 */
export const isConflict = (error: unknown): boolean =>
  statusOf(error) === 412 || facts(error).name === 'PreconditionFailed' || facts(error).name === 'ConditionalRequestConflict';

/** A failed S3 call's cause, in words an operator can act on. */
export function explain(error: unknown): string {
  const { name, code, message } = facts(error);
  const status = statusOf(error);
  if (name === 'NoSuchBucket') return 'the bucket does not exist';
  if (name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch' || name === 'AccessDenied' || status === 403) {
    return `access denied (${name ?? 'HTTP 403'}): check the credentials and the bucket policy`;
  }
  if (name === 'PermanentRedirect' || name === 'AuthorizationHeaderMalformed' || status === 301) {
    return `the bucket is in another region (${name ?? `HTTP ${status}`})`;
  }
  if (name === 'CredentialsProviderError') return `no credentials found: ${message}`;
  if (name === 'TimeoutError' || code === 'ETIMEDOUT') return `no answer in time (${message})`;
  if (code !== undefined && status === undefined) return `unreachable (${code}${message ? `: ${message}` : ''})`;
  if (status !== undefined) return `${name ?? 'error'} (HTTP ${status})${message && message !== 'UnknownError' ? `: ${message}` : ''}`;
  return `${name ?? 'error'}: ${message ?? String(error)}`;
}

/** Why an S3 call failed, for logs: `where` names the bucket and endpoint; never credentials. */
export function describeFailure(where: string, action: string, error: unknown): string {
  return `cannot ${action} in ${where}: ${explain(error)}`;
}
