/** The HTTP status of an error from the library (ApiError.code, gaxios' response.status, the Upload's code). */
export function statusOf(error: unknown): number | undefined {
  const e = error as { code?: unknown; status?: unknown; response?: { status?: unknown } } | null | undefined;
  for (const value of [e?.code, e?.status, e?.response?.status]) {
    if (typeof value === 'number') return value;
  }
  return undefined;
}

export function isMissingBucket(error: unknown): boolean {
  return error instanceof Error && /bucket does not exist/i.test(error.message);
}

/** One line for logs: status, error code and message. */
export function describeError(error: unknown): string {
  const status = statusOf(error);
  const code = (error as { code?: unknown } | null | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return [status !== undefined ? `HTTP ${status}` : undefined, typeof code === 'string' ? code : undefined, message]
    .filter((part) => part !== undefined && part !== '')
    .join(' ');
}
