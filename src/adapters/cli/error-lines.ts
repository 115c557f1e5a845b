import { DomainError, StorageUnavailable } from '../../domain/errors.ts';

/**
 * An error in the words the HTTP endpoint uses (`error` is the same message, `code` the same
 * stable code). Unlike HTTP, the CLI shows every detail: its user is the operator, who already
 * holds the token file and the storage credentials.
 */
export interface ErrorReport {
  readonly error: string;
  readonly code: string;
  readonly detail?: string;
}

const FILE_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EISDIR: 'is a directory, not a file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
};

export function errorReport(error: unknown): ErrorReport {
  if (error instanceof StorageUnavailable) return { error: error.message, code: error.code, detail: error.reason };
  if (error instanceof DomainError) {
    return error.detail === undefined ? { error: error.message, code: error.code } : { error: error.message, code: error.code, detail: error.detail };
  }
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  if (errno !== undefined && FILE_ERRORS[errno] !== undefined) return { error: FILE_ERRORS[errno], code: errno };
  return { error: 'internal error', code: 'INTERNAL', detail: (error as Error)?.message ?? String(error) };
}

/** `Unsupported file type (.exe is not allowed; ...)`. */
export function errorText(report: ErrorReport): string {
  return report.detail === undefined ? report.error : `${report.error} (${report.detail})`;
}
